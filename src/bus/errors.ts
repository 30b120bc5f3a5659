import { JetStreamApiError } from '@nats-io/jetstream';

/** JetStream API error codes novanet reacts to (nats-server's JSErrCodes). */
const StreamNotFound = 10059;
/** An expected (last, or last-per-subject) sequence did not match: someone else wrote first. */
const WrongLastSequence = [10071, 10164];

export function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === StreamNotFound;
}

export function isWrongLastSequence(err: unknown): boolean {
  return err instanceof JetStreamApiError && WrongLastSequence.includes(err.code);
}
