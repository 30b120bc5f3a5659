import type { Operation } from './operation.js';
import { portOperations } from './port.js';
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

/** Every tenant operation by its subject tail (`<resource>.<verb>`). */
export const tenantOperations: Readonly<Record<string, Operation>> = {
  ...vpcOperations,
  ...subnetOperations,
  ...portOperations,
  ...securityGroupOperations,
};
