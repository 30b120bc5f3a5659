import { JetStreamApiError } from '@nats-io/jetstream';

/** JetStream API error codes novanet reacts to (nats-server's JSErrCodes). */
const StreamNotFound = 10059;

export function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === StreamNotFound;
}
