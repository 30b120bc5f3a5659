import type { NatsConnection } from '@nats-io/transport-node';

/**
 * Whether `nc` is connected now, as its status events say (it reconnects by itself);
 * `changed` is told each time that flips.
 */
export function trackConnected(nc: NatsConnection, changed: () => void = () => undefined): () => boolean {
  let connected = true;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') connected = false;
      else if (status.type === 'reconnect') connected = true;
      else continue;
      changed();
    }
  })();
  return () => connected;
}
