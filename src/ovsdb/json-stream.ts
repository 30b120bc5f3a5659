import { OvsdbProtocolError } from './errors.js';

/** A parsed JSON text; integers beyond 2^53 come out as bigint. */
export type Json = null | boolean | number | bigint | string | Json[] | { [key: string]: Json };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;

const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
const isWhitespace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
// '+', '-', '.', digits, 'e', 'E'
const isNumberByte = (b: number): boolean => isDigit(b) || b === 0x2b || b === MINUS || b === 0x2e || b === 0x65 || b === 0x45;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Splits a byte stream of concatenated JSON texts (objects or arrays, no delimiter) into messages.
 * The scanner state survives chunk boundaries, so each byte is looked at once and a message's chunks
 * are concatenated once, when it is complete: linear in the stream size however it is chunked.
 * Structural characters are ASCII, so UTF-8 continuation bytes never look like one.
 */
export class JsonStreamParser {
  readonly #onMessage: (message: Json) => void;
  #pieces: Buffer[] = [];
  #depth = 0;
  #inString = false;
  #escaped = false;
  #inNumber = false;
  #numberText = '';
  #numberIsInteger = true;
  /** Number literals seen so far in the current message; indexes #bigIntegers. */
  #numberCount = 0;
  #bigIntegers: Map<number, bigint> | undefined;

  constructor(onMessage: (message: Json) => void) {
    this.#onMessage = onMessage;
  }

  /** Feeds bytes; calls onMessage synchronously, in order, for every message they complete. */
  push(chunk: Buffer): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (b === BACKSLASH) this.#escaped = true;
        else if (b === QUOTE) this.#inString = false;
        continue;
      }
      if (this.#inNumber) {
        if (isNumberByte(b)) {
          this.#numberText += String.fromCharCode(b);
          if (!isDigit(b) && b !== MINUS) this.#numberIsInteger = false;
          continue;
        }
        this.#endNumber();
      }
      if (b === QUOTE) {
        this.#inString = true;
      } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        if (this.#depth === 0) start = i;
        this.#depth++;
      } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        if (this.#depth === 0) throw new OvsdbProtocolError(`unexpected '${String.fromCharCode(b)}' between messages`);
        if (--this.#depth === 0) this.#emit(chunk.subarray(start, i + 1));
      } else if (this.#depth === 0) {
        if (!isWhitespace(b)) throw new OvsdbProtocolError(`unexpected byte 0x${b.toString(16)} between messages`);
      } else if (b === MINUS || isDigit(b)) {
        this.#inNumber = true;
        this.#numberText = String.fromCharCode(b);
        this.#numberIsInteger = true;
      }
    }
    if (this.#depth > 0) this.#pieces.push(chunk.subarray(start));
  }

  #endNumber(): void {
    this.#inNumber = false;
    const index = this.#numberCount++;
    // 16+ characters is the shortest literal that may exceed 2^53; everything shorter is exact as a number.
    if (!this.#numberIsInteger || this.#numberText.length < 16) return;
    const n = BigInt(this.#numberText);
    if (n > MAX_SAFE || n < -MAX_SAFE) (this.#bigIntegers ??= new Map()).set(index, n);
  }

  #emit(last: Buffer): void {
    this.#pieces.push(last);
    const bytes = this.#pieces.length === 1 ? last : Buffer.concat(this.#pieces);
    const bigIntegers = this.#bigIntegers;
    this.#pieces = [];
    this.#numberCount = 0;
    this.#bigIntegers = undefined;
    let message: Json;
    try {
      message = bigIntegers ? parseWithBigIntegers(bytes.toString('utf8'), bigIntegers) : (JSON.parse(bytes.toString('utf8')) as Json);
    } catch (err) {
      throw new OvsdbProtocolError(`invalid JSON: ${(err as Error).message}`, { cause: err });
    }
    this.#onMessage(message);
  }
}

/**
 * The reviver sees number values in document order, so the n-th number it sees is the n-th literal the
 * scanner counted. (JSON.parse reorders integer-like member names and drops duplicate members; OVSDB
 * member names are table, column, uuid and JSON-RPC names, never either.)
 */
function parseWithBigIntegers(text: string, bigIntegers: ReadonlyMap<number, bigint>): Json {
  let index = 0;
  return JSON.parse(text, (_key: string, value: unknown) => {
    if (typeof value !== 'number') return value;
    return bigIntegers.get(index++) ?? value;
  }) as Json;
}

/**
 * JSON.stringify that writes bigint as a JSON integer. The native JSON.stringify first: it
 * throws on a bigint, which only integers beyond 2^53 are, and walking every value here cost
 * 8 % of the engine's CPU in bulk creation (a 256-port transaction is ~1,000 operations).
 */
export function stringifyJson(value: Json): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return stringifyWithBigIntegers(value);
  }
}

function stringifyWithBigIntegers(value: Json): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(stringifyWithBigIntegers).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${stringifyWithBigIntegers(v)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}
