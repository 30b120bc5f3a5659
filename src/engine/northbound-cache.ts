import type { Logger } from 'pino';
import { NO_SNAPSHOT, releaseBytes } from '../bus/snapshot.js';
import type { SnapshotStore } from '../bus/snapshot.js';
import type { OvsdbClient } from '../ovsdb/mod.js';

/**
 * The reconciler's Northbound cache, saved at a clean stop and restored at the next start, so
 * that a clustered Northbound answers the start's monitor with what changed since (found=true)
 * instead of a dump of every row (at 100k ports ~3.4 s of ovsdb-server's CPU before its first
 * byte, and ~3.5–4 s of this thread's to read). A cache only: without one, or with one the
 * client refuses (logged with why), the start reads the full dump, and the result is the same.
 */
export async function loadNorthboundCache(store: SnapshotStore, logger: Logger): Promise<Uint8Array | undefined> {
  const started = performance.now();
  try {
    const stored = await store.load();
    if ('reason' in stored) {
      logger[stored.reason === NO_SNAPSHOT ? 'info' : 'warn']({ reason: stored.reason }, 'no saved Northbound cache; the start reads the full dump');
      return undefined;
    }
    logger.debug({ bytes: stored.bytes.byteLength, loadedMs: Math.round(performance.now() - started) }, 'saved Northbound cache read');
    return stored.bytes;
  } catch (err) {
    logger.warn({ err }, 'reading the saved Northbound cache failed; the start reads the full dump');
    return undefined;
  }
}

/** Hands `bytes` to the client before its monitor is asked for; a cache it refuses is only logged. */
export function restoreNorthboundCache(ovsdb: OvsdbClient, bytes: Uint8Array, logger: Logger): void {
  const started = performance.now();
  const size = bytes.byteLength;
  const restored = ovsdb.restoreCache(bytes);
  // Decoded into rows of their own: nothing reads the bytes again.
  releaseBytes(bytes);
  if ('reason' in restored) logger.warn({ reason: restored.reason }, 'the saved Northbound cache is not used; the start reads the full dump');
  else logger.info({ rows: restored.rows, bytes: size, decodedMs: Math.round(performance.now() - started) }, 'saved Northbound cache restored; asking for what changed since');
}

/** Saves the client's cache (nothing for a standalone Northbound, which answers every monitor with a full dump). */
export async function saveNorthboundCache(store: SnapshotStore, ovsdb: OvsdbClient, logger: Logger): Promise<void> {
  const started = performance.now();
  const bytes = ovsdb.saveCache();
  if (!bytes) return;
  const encodeMs = Math.round(performance.now() - started);
  try {
    // A generation of its own a save: the store drops the one it replaces.
    await store.save(Date.now(), bytes);
    logger.info({ bytes: bytes.byteLength, encodeMs, savedMs: Math.round(performance.now() - started) - encodeMs }, 'Northbound cache saved');
  } catch (err) {
    logger.warn({ err }, 'saving the Northbound cache failed; the next start reads the full dump');
  } finally {
    releaseBytes(bytes);
  }
}
