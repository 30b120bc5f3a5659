import type { Value } from '../ovsdb/mod.js';

/** A set column of another row that must hold this row's UUID. */
export interface Reference {
  readonly table: string;
  readonly uuid: string;
  readonly column: string;
}

/**
 * One Northbound row as novanet wants it. `columns` lists only the columns
 * novanet manages; anything else on the row (e.g. `up`, or a parent's child sets
 * maintained by the children themselves) is left alone.
 */
export interface DesiredRow {
  readonly table: string;
  readonly uuid: string;
  readonly columns: Readonly<Record<string, Value>>;
  /**
   * What the row is for its resource, where the resource has one row of its kind (`logicalSwitch`,
   * `localnetPort` …): its status lists the row's UUID under this name. Rows a resource has many
   * of (ACLs, SNAT rules, routes) have none.
   */
  readonly role?: string;
  /**
   * Rows whose set columns must reference this one (a switch's ports, a port group's
   * ports or ACLs). A non-root row lists its parent first: without that strong
   * reference the server garbage-collects it.
   */
  readonly referencedBy: readonly Reference[];
}
