import type { Value } from '../ovsdb/mod.js';

/** The column of a parent row that must reference a non-root row, or the row is garbage-collected. */
export interface ParentRef {
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
  readonly parent?: ParentRef;
}
