import { attachmentOperations } from './external-ip-attachment.js';
import { externalIpOperations } from './external-ip.js';
import { externalNetworkOperations } from './external-network.js';
import { loadBalancerOperations } from './load-balancer.js';
import { natGatewayOperations } from './nat-gateway.js';
import { registry } from './operation.js';
import type { OperationRegistry } from './operation.js';
import { portForwardOperations } from './port-forward.js';
import { portOperations } from './port.js';
import { quotaOperations, tenantQuotaOperations, withQuotas } from './quota.js';
import { securityGroupOperations } from './securitygroup.js';
import { subnetOperations } from './subnet.js';
import { vpcOperations } from './vpc.js';

/** Every tenant operation by its subject tail (`<resource>.<verb>`). */
export const tenantOperations: OperationRegistry = withQuotas(registry(
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
));

/**
 * Every provider (operator) operation by its subject tail, on `<prefix>.admin.cmd.<resource>.<verb>`,
 * decided in PROVIDER_SCOPE. No name is also a tenant operation.
 */
export const providerOperations: OperationRegistry = registry(externalNetworkOperations, tenantQuotaOperations);
