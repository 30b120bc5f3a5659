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
  return typeof time === 'number' ? isoText(time) : time;
}

/** The last millisecond of 9999: up to it the year has four digits. */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;
const DAY_MS = 86_400_000;

const two = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const three = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/**
 * `new Date(ms).toISOString()`, in arithmetic for 1970 to 9999 (Hinnant's days-to-civil):
 * the built-in is a runtime call of ~1 µs, a third of it, which a list of a tenant's ports
 * paid for each port.
 */
function isoText(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > LAST_FOUR_DIGIT_YEAR_MS) return new Date(ms).toISOString();
  const days = Math.floor(ms / DAY_MS);
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const inDay = ms - days * DAY_MS;
  const hours = Math.floor(inDay / 3_600_000);
  const minutes = Math.floor(inDay / 60_000) % 60;
  const seconds = Math.floor(inDay / 1000) % 60;
  return `${year}-${two(month)}-${two(day)}T${two(hours)}:${two(minutes)}:${two(seconds)}.${three(inDay % 1000)}Z`;
}
