/**
 * The Northbound tables novanet writes, and how a row of each is removed:
 * root rows are deleted; non-root rows are dropped from their parent's set and
 * the server garbage-collects them (OVN-NOTES, "Northbound schema pitfalls").
 */
export interface TableSpec {
  readonly root: boolean;
  /** Parent set columns that may hold a non-root row. */
  readonly parents: readonly { readonly table: string; readonly column: string }[];
}

export const Tables = {
  Logical_Router: { root: true, parents: [] },
  Logical_Router_Port: { root: false, parents: [{ table: 'Logical_Router', column: 'ports' }] },
  Logical_Switch: { root: true, parents: [] },
  Logical_Switch_Port: { root: false, parents: [{ table: 'Logical_Switch', column: 'ports' }] },
  DHCP_Options: { root: true, parents: [] },
} as const satisfies Record<string, TableSpec>;

export type TableName = keyof typeof Tables;
export const tableNames = Object.keys(Tables) as TableName[];
