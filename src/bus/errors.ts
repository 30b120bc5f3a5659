import { JetStreamApiError } from '@nats-io/jetstream';

/** JetStream API error codes novanet reacts to (nats-server's JSErrCodes). */
const StreamNotFound = 10059;
const WrongLastSequence = 10071;

export function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === StreamNotFound;
}

/** Another writer appended first: the fenced append was refused, nothing was written. */
export function isWrongLastSequence(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === WrongLastSequence;
}
