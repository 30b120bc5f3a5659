import { DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import { isStreamNotFound } from './errors.js';

export interface StreamNames {
  readonly events: string;
  readonly status: string;
}

/** Stream names derive from the subject prefix, so several novanet installs can share one NATS. */
export function streamNames(prefix: string): StreamNames {
  const base = prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_');
  return { events: `${base}_EVENTS`, status: `${base}_STATUS` };
}

/** How many status messages a resource keeps: the latest plus a short history. */
const STATUS_HISTORY = 5;

/**
 * Creates the EVENTS and STATUS streams when missing (DESIGN §3). EVENTS is the
 * audit log: deny_delete and deny_purge make it append-only even for operators.
 */
export async function ensureStreams(jsm: JetStreamManager, prefix: string, replicas: number): Promise<StreamNames> {
  const names = streamNames(prefix);
  await ensure(jsm, {
    name: names.events,
    subjects: [`${prefix}.evt.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    deny_delete: true,
    deny_purge: true,
    discard: DiscardPolicy.New,
  });
  await ensure(jsm, {
    name: names.status,
    subjects: [`${prefix}.status.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    max_msgs_per_subject: STATUS_HISTORY,
    discard: DiscardPolicy.Old,
  });
  return names;
}

async function ensure(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
    await jsm.streams.add(config);
  }
}
