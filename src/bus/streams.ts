import { DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import { streamNames, subjects } from '../../events/mod.js';
import { isStreamNotFound } from './errors.js';

export type StreamNames = ReturnType<typeof streamNames>;

/** How many status messages a resource keeps: the latest plus a short history. */
const STATUS_HISTORY = 5;

/**
 * Creates the EVENTS, STATUS and SNAPSHOT streams when missing. EVENTS is the
 * audit log: deny_delete and deny_purge make it append-only even for operators.
 */
export async function ensureStreams(jsm: JetStreamManager, prefix: string, replicas: number): Promise<StreamNames> {
  const names = streamNames(prefix);
  await ensure(jsm, {
    name: names.events,
    subjects: [subjects(prefix).eventsWildcard],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    deny_delete: true,
    deny_purge: true,
    discard: DiscardPolicy.New,
  });
  await ensure(jsm, {
    name: names.status,
    subjects: [subjects(prefix).statusWildcard],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    max_msgs_per_subject: STATUS_HISTORY,
    discard: DiscardPolicy.Old,
    // Clients read a resource's latest status with a direct get on its own subject: a
    // permission NATS can scope per tenant, unlike creating a consumer on the stream.
    allow_direct: true,
  });
  await ensure(jsm, {
    name: names.snapshot,
    subjects: [subjects(prefix).snapshotWildcard],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    // The newest snapshot's manifest and each of its chunks (src/bus/snapshot.ts): one message a subject.
    max_msgs_per_subject: 1,
    discard: DiscardPolicy.Old,
    allow_direct: true,
  });
  return names;
}

/** Creates the stream, or turns on direct get on one made before novanet used it. */
async function ensure(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    const info = await jsm.streams.info(config.name);
    if (config.allow_direct && !info.config.allow_direct) await jsm.streams.update(config.name, { ...info.config, allow_direct: true });
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
    await jsm.streams.add(config);
  }
}
