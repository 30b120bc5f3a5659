/**
 * A commit's time as a port keeps it: the milliseconds since the epoch when they give back
 * exactly the text (what the intake writes, `toISOString`), else the text as the log has it.
 * A number is 16 bytes of heap, the 24-character text 40, in each of the engine's two views
 * (heap snapshot at 30k ports, README "Scale"); a read answers the text either way.
 */
export type CommitTime = number | string;

export function commitTime(at: string): CommitTime {
  const ms = at.length === 24 ? Date.parse(at) : Number.NaN;
  return !Number.isNaN(ms) && new Date(ms).toISOString() === at ? ms : at;
}

export function commitTimeText(time: CommitTime): string {
  return typeof time === 'number' ? new Date(time).toISOString() : time;
}
