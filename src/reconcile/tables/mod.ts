import { SWITCH_PORT_COLUMNS } from './logical-switch-port.js';

/**
 * The Northbound tables novanet writes. Root rows are deleted explicitly; non-root
 * rows disappear when the last strong reference to them is removed (the server
 * garbage-collects them, ovn-nb(5)): a child is inserted with its parent's reference in one transaction.
 * `references` lists the set columns through which novanet's rows point at others:
 * the reconciler indexes them to know which rows reference which.
 */
export interface TableSpec {
  readonly root: boolean;
  readonly references: readonly string[];
  /** The columns the reconciler monitors, where not every column: a cached row holds each. */
  readonly columns?: readonly string[];
}

export const Tables = {
  Logical_Router: { root: true, references: ['ports', 'static_routes', 'nat', 'load_balancer'] },
  Logical_Router_Port: { root: false, references: ['gateway_chassis'] },
  Logical_Router_Static_Route: { root: false, references: [] },
  NAT: { root: false, references: [] },
  Gateway_Chassis: { root: false, references: [] },
  Load_Balancer: { root: true, references: [] },
  Logical_Switch: { root: true, references: ['ports', 'acls', 'load_balancer'] },
  Logical_Switch_Port: { root: false, references: [], columns: SWITCH_PORT_COLUMNS },
  DHCP_Options: { root: true, references: [] },
  Port_Group: { root: true, references: ['ports', 'acls'] },
  ACL: { root: false, references: [] },
  HA_Chassis_Group: { root: true, references: ['ha_chassis'] },
  HA_Chassis: { root: false, references: [] },
} as const satisfies Record<string, TableSpec>;

export type TableName = keyof typeof Tables;
export const tableNames = Object.keys(Tables) as TableName[];

export function isRootTable(table: string): boolean {
  return (Tables as Record<string, TableSpec>)[table]?.root ?? true;
}
