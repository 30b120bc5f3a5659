import { attachmentOperations } from './external-ip-attachment.js';
import { externalIpOperations } from './external-ip.js';
import { externalNetworkOperations } from './external-network.js';
import { loadBalancerOperations } from './load-balancer.js';
import { natGatewayOperations } from './nat-gateway.js';
import { networkClassOperations, tenantNetworkClassOperations } from './network-class.js';
import { registry } from './operation.js';
import type { OperationRegistry } from './operation.js';
import { portForwardOperations } from './port-forward.js';
import { portOperations } from './port.js';
import { quotaOperations, tenantQuotaOperations, withQuotas } from './quota.js';
import { securityGroupOperations } from './securitygroup.js';
import { subnetOperations } from './subnet.js';
import { vpcOperations } from './vpc.js';
import { vpcCreateOperations } from './vpc-create.js';

/** Every tenant operation by its subject tail (`<resource>.<verb>`). */
export const tenantOperations: OperationRegistry = withQuotas(registry(
  vpcCreateOperations,
  vpcOperations,
  subnetOperations,
  portOperations,
  securityGroupOperations,
  externalIpOperations,
  natGatewayOperations,
  attachmentOperations,
  portForwardOperations,
  loadBalancerOperations,
  quotaOperations,
  tenantNetworkClassOperations,
));

/**
 * Every provider (operator) operation by its subject tail, on `<prefix>.admin.cmd.<resource>.<verb>`,
 * decided in PROVIDER_SCOPE. Only reads of the provider's catalogue (`networkclass.get`, `.list`) share
 * their name with tenant operations, each side answering with what it may see.
 */
export const providerOperations: OperationRegistry = registry(externalNetworkOperations, tenantQuotaOperations, networkClassOperations);
