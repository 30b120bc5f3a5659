import type { Operation, OvsdbClient, Row } from '../ovsdb/mod.js';
import { isOvsdbTransactionError } from '../ovsdb/mod.js';
import type { Ownership } from './names.js';

const NB_GLOBAL = 'NB_Global';

/** The writer of an installation: the holder of its lease, and the lease's token (the revision it was acquired at). */
export interface Writer {
  readonly token: number;
  readonly holder: string;
}

/**
 * The Northbound's own check that one engine writes at a time. The writer lease lives in NATS
 * (src/bus/lease.ts); its token grows with every acquisition. Taking over writes the token
 * into NB_Global's `external_ids` (`novanet:writer:<owner>` = `<token> <holder>`), only over a
 * smaller one; every transaction then starts with a `wait` that the token is still there, and a
 * comment naming the writer (kept in the database's transaction log). An engine that lost the
 * lease without noticing in time (paused, cut off from NATS) is refused by the Northbound at
 * its next transaction, after the new writer's first: two writers never interleave.
 */
export class WriterFence {
  readonly #key: string;

  constructor(private readonly ovsdb: OvsdbClient, ownership: Ownership) {
    this.#key = `novanet:writer:${ownership.owner}`;
  }

  /** Monitors NB_Global's external_ids (the token in force). */
  async start(): Promise<void> {
    await this.ovsdb.monitor({ [NB_GLOBAL]: { columns: ['external_ids'] } });
  }

  /** The token the Northbound holds now, as the monitored cache shows it (0: none). */
  current(): number {
    const value = this.#row()?.external_ids;
    const mark = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[this.#key] : undefined;
    return typeof mark === 'string' ? Number.parseInt(mark, 10) || 0 : 0;
  }

  /**
   * Writes `writer`'s token unless the Northbound holds a greater one (then resolves false: a
   * newer writer exists). A compare-and-set on the whole row, retried when someone changed it
   * between the read and the write.
   */
  async claim(writer: Writer): Promise<boolean> {
    for (;;) {
      const held = this.current();
      if (held > writer.token) return false;
      if (held === writer.token) return true;
      const row = this.#row();
      const mark = { [this.#key]: `${writer.token} ${writer.holder}` };
      const ops: Operation[] = row
        ? [
          { op: 'wait', table: NB_GLOBAL, where: [['_uuid', '==', row._uuid]], columns: ['external_ids'], until: '==', rows: [{ external_ids: row.external_ids! }], timeout: 0 },
          { op: 'mutate', table: NB_GLOBAL, where: [['_uuid', '==', row._uuid]], mutations: [['external_ids', 'delete', [this.#key]], ['external_ids', 'insert', mark]] },
        ]
        // An empty Northbound (nothing ran ovn-nbctl init or ovn-northd yet): the row is ours to insert, if still nobody's.
        : [
          { op: 'wait', table: NB_GLOBAL, where: [], columns: [], until: '==', rows: [], timeout: 0 },
          { op: 'insert', table: NB_GLOBAL, row: { external_ids: mark } },
        ];
      try {
        await this.ovsdb.transact([...ops, this.#comment(writer, 'takes over')]);
        return true;
      } catch (err) {
        // The row changed under us (its monitor update is in the cache by now): read again.
        if (!isOvsdbTransactionError(err) || err.opIndex !== 0) throw err;
      }
    }
  }

  /** The operations every transaction of `writer` starts with. */
  guard(writer: Writer): Operation[] {
    return [
      { op: 'wait', table: NB_GLOBAL, where: [['external_ids', 'includes', { [this.#key]: `${writer.token} ${writer.holder}` }]], columns: [], until: '==', rows: [{}], timeout: 0 },
      this.#comment(writer, 'writes'),
    ];
  }

  /** Whether a transaction that began with `guard` failed because another writer took over. */
  fencedOut(err: unknown): boolean {
    return isOvsdbTransactionError(err) && err.opIndex === 0 && err.operation?.op === 'wait';
  }

  #row(): Row | undefined {
    return this.ovsdb.cache.table(NB_GLOBAL).values().next().value;
  }

  #comment(writer: Writer, what: string): Operation {
    return { op: 'comment', comment: `novanet writer ${writer.holder} token ${writer.token} ${what}` };
  }
}
