import { attachmentOperations } from './external-ip-attachment.js';
import { externalIpOperations } from './external-ip.js';
import { externalNetworkOperations } from './external-network.js';
import { loadBalancerOperations } from './load-balancer.js';
import { natGatewayOperations } from './nat-gateway.js';
import type { Operation } from './operation.js';
import { portForwardOperations } from './port-forward.js';
import { portOperations } from './port.js';
import { quotaOperations, tenantQuotaOperations, withQuotas } from './quota.js';
import { securityGroupOperations } from './securitygroup.js';
import { subnetOperations } from './subnet.js';
import { vpcOperations } from './vpc.js';

export * from './errors.js';
export * from './context.js';
export * from './operation.js';
export { presentVpc } from './vpc.js';
export { presentSubnet } from './subnet.js';
export { presentPort } from './port.js';
export { presentSecurityGroup } from './securitygroup.js';
export { presentExternalNetwork, presentExternalIpPool } from './external-network.js';
export { presentExternalIp } from './external-ip.js';
export { presentNatGateway } from './nat-gateway.js';
export { presentAttachment } from './external-ip-attachment.js';
export { presentPortForward } from './port-forward.js';
export { presentLoadBalancer } from './load-balancer.js';

/** Every tenant operation by its subject tail (`<resource>.<verb>`). */
export const tenantOperations: Readonly<Record<string, Operation>> = withQuotas({
  ...vpcOperations,
  ...subnetOperations,
  ...portOperations,
  ...securityGroupOperations,
  ...externalIpOperations,
  ...natGatewayOperations,
  ...attachmentOperations,
  ...portForwardOperations,
  ...loadBalancerOperations,
  ...quotaOperations,
});

/**
 * Every provider (operator) operation by its subject tail, on `<prefix>.admin.cmd.<resource>.<verb>`,
 * decided in PROVIDER_SCOPE. No name is also a tenant operation.
 */
export const providerOperations: Readonly<Record<string, Operation>> = {
  ...externalNetworkOperations,
  ...tenantQuotaOperations,
};
