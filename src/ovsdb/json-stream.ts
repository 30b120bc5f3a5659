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

/** Where the row updates of a streamed reply go, in stream order: each `change` is one row's update object, parsed alone. */
export type RowSink = (table: string, uuid: string, change: Json) => void;

/**
 * A streamed reply's table-updates object, as the scanner walks it: one level below the result
 * (tables) and two (a table's rows) a member is a key, a colon and an object, members apart by commas.
 */
const enum Member {
  /** Just after '{': a key or the '}' of an empty object. */
  First,
  Key,
  Colon,
  Value,
  Next,
}

/**
 * `{"id":<n>,"result":` before a reply's table updates: ovsdb-server writes the id first. A
 * monitor_cond_since reply's result is `[<found>,"<last-txn-id>",<table-updates>]`: its table
 * updates are the array's third element, one level deeper.
 */
const REPLY_PREFIX = /^\{\s*"id"\s*:\s*(\d+)\s*,\s*"result"\s*:\s*(\[\s*(?:true|false)\s*,\s*"[^"\\]*"\s*,\s*)?$/;

/**
 * Splits a byte stream of concatenated JSON texts (objects or arrays, no delimiter) into messages.
 * The scanner state survives chunk boundaries, so each byte is looked at once and a message's chunks
 * are concatenated once, when it is complete: linear in the stream size however it is chunked.
 * Structural characters are ASCII, so UTF-8 continuation bytes never look like one.
 *
 * A reply whose id `rowsOf` names a sink for (a monitor request's) is streamed: each row update
 * of its result (`{"<table>":{"<uuid>":{...}}}`) is parsed alone and handed to the sink as soon
 * as its last byte is read, and the message then comes out with its result `{}`. A 60 MB dump is
 * then 100k parse trees of a row each that die young, instead of one tree of the whole reply that
 * lives until it is read (and is promoted, then collected, meanwhile). A reply that does not begin
 * with its id (another server's) comes out whole, as any other message.
 */
export class JsonStreamParser {
  readonly #onMessage: (message: Json) => void;
  readonly #rowsOf: (id: number) => RowSink | undefined;
  #pieces: Buffer[] = [];
  #depth = 0;
  #inString = false;
  #escaped = false;
  #inNumber = false;
  #numberText = '';
  #numberIsInteger = true;
  /** Number literals seen so far in the current message (in a streamed reply: in the current row); indexes #bigIntegers. */
  #numberCount = 0;
  #bigIntegers: Map<number, bigint> | undefined;
  /** The current message's first object value at depth 1 was looked at (is it a streamed reply's result?). */
  #prefixSeen = false;
  /** Set while a streamed reply's result is read: the sink, and the message's text before the result. */
  #rows: RowSink | undefined;
  #prefix = '';
  /** The depth the streamed table updates object is entered from: 1, or 2 inside a monitor_cond_since result. */
  #resultDepth = 1;
  #member = Member.Key;
  /** Where the table name being read started in the current chunk (-1: none), and its earlier chunks' bytes. */
  #keyStart = -1;
  #keyPieces: Buffer[] = [];
  #table = '';
  /**
   * The current row's earlier chunks' bytes; where it started in the current chunk (-1: outside
   * a row). A row starts at its UUID's opening quote: parsed as a member of an object, the UUID
   * is a property name, which V8 interns, as it did when the reply was parsed whole (references
   * to it compare by pointer: the reconciler's reference index took 2.5x as long with copies).
   */
  #rowPieces: Buffer[] = [];
  #rowStart = -1;
  /** The message's own number count and big integers, set aside while a row is read. */
  #outerNumbers: { count: number; big: Map<number, bigint> | undefined } | undefined;

  constructor(onMessage: (message: Json) => void, rowsOf: (id: number) => RowSink | undefined = () => undefined) {
    this.#onMessage = onMessage;
    this.#rowsOf = rowsOf;
  }

  /** Feeds bytes; calls onMessage (and a streamed reply's sink) synchronously, in order, for every message (row) they complete. */
  push(chunk: Buffer): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (b === BACKSLASH) this.#escaped = true;
        else if (b === QUOTE) {
          this.#inString = false;
          if (this.#keyStart >= 0) this.#endKey(chunk, i);
        }
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
      if (this.#rows !== undefined && this.#depth <= this.#resultDepth + 2) {
        // Between the rows of a streamed result: only its keys, colons, commas and braces.
        this.#walkMember(i, b);
        if (this.#depth === this.#resultDepth) start = i + 1;
        continue;
      }
      if (b === QUOTE) {
        this.#inString = true;
      } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        if (this.#depth === 0) {
          start = i;
          this.#prefixSeen = false;
        } else if ((this.#depth === 1 || this.#depth === 2) && b === OPEN_BRACE && !this.#prefixSeen) {
          this.#prefixSeen = true;
          if (this.#streamResult(chunk.subarray(start, i))) {
            this.#depth++;
            continue;
          }
        }
        this.#depth++;
      } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        if (this.#depth === 0) throw new OvsdbProtocolError(`unexpected '${String.fromCharCode(b)}' between messages`);
        if (--this.#depth === 0) this.#emit(chunk.subarray(start, i + 1));
        else if (this.#rows !== undefined && this.#depth === this.#resultDepth + 2) this.#endRow(chunk, i);
      } else if (this.#depth === 0) {
        if (!isWhitespace(b)) throw new OvsdbProtocolError(`unexpected byte 0x${b.toString(16)} between messages`);
      } else if (b === MINUS || isDigit(b)) {
        this.#inNumber = true;
        this.#numberText = String.fromCharCode(b);
        this.#numberIsInteger = true;
      }
    }
    if (this.#depth === 0) return;
    if (this.#rows === undefined || this.#depth === this.#resultDepth) this.#pieces.push(chunk.subarray(start));
    if (this.#rowStart >= 0) {
      this.#rowPieces.push(chunk.subarray(this.#rowStart));
      this.#rowStart = 0;
    }
    if (this.#keyStart >= 0) {
      this.#keyPieces.push(chunk.subarray(this.#keyStart));
      this.#keyStart = 0;
    }
  }

  /** At a reply's result object: streams it if the message so far is `{"id":<n>,"result":` and n has a sink. */
  #streamResult(last: Buffer): boolean {
    const before = this.#pieces.length === 0 ? last.toString('utf8') : Buffer.concat([...this.#pieces, last]).toString('utf8');
    const match = REPLY_PREFIX.exec(before);
    // The array's '[' is the only depth between the message and a monitor_cond_since result's updates.
    if (match === null || (match[2] !== undefined) !== (this.#depth === 2)) return false;
    const rows = this.#rowsOf(Number(match[1]));
    if (rows === undefined) return false;
    this.#rows = rows;
    this.#resultDepth = this.#depth;
    this.#prefix = before;
    this.#pieces = [];
    this.#member = Member.First;
    return true;
  }

  /** One structural byte of a streamed result, from its end to a table's rows; a row starts at the '{' that enters the row's depth. */
  #walkMember(i: number, b: number): void {
    if (isWhitespace(b)) return;
    const expected = this.#member;
    if (b === QUOTE && (expected === Member.Key || expected === Member.First)) {
      this.#inString = true;
      if (this.#depth === this.#resultDepth + 1) this.#keyStart = i;
      else this.#rowStart = i;
      this.#member = Member.Colon;
    } else if (b === 0x3a && expected === Member.Colon) {
      this.#member = Member.Value;
    } else if (b === OPEN_BRACE && expected === Member.Value) {
      if (++this.#depth === this.#resultDepth + 3) this.#beginRow();
      else this.#member = Member.First;
    } else if (b === 0x2c && expected === Member.Next) {
      this.#member = Member.Key;
    } else if (b === CLOSE_BRACE && (expected === Member.Next || expected === Member.First)) {
      if (--this.#depth === this.#resultDepth) {
        // The result is read: the rest of the message comes out as usual, its result `{}`.
        this.#rows = undefined;
        this.#prefix += '{}';
      }
      this.#member = Member.Next;
    } else {
      throw new OvsdbProtocolError(`unexpected '${String.fromCharCode(b)}' in the table updates of a reply`);
    }
  }

  #endKey(chunk: Buffer, i: number): void {
    const last = chunk.subarray(this.#keyStart, i + 1);
    const bytes = this.#keyPieces.length === 0 ? last : Buffer.concat([...this.#keyPieces, last]);
    this.#keyStart = -1;
    this.#keyPieces = [];
    this.#table = JSON.parse(bytes.toString('utf8')) as string;
  }

  #beginRow(): void {
    this.#outerNumbers = { count: this.#numberCount, big: this.#bigIntegers };
    this.#numberCount = 0;
    this.#bigIntegers = undefined;
  }

  #endRow(chunk: Buffer, i: number): void {
    const last = chunk.subarray(this.#rowStart, i + 1);
    const bytes = this.#rowPieces.length === 0 ? last : Buffer.concat([...this.#rowPieces, last]);
    const bigIntegers = this.#bigIntegers;
    this.#rowStart = -1;
    this.#rowPieces = [];
    this.#numberCount = this.#outerNumbers!.count;
    this.#bigIntegers = this.#outerNumbers!.big;
    this.#outerNumbers = undefined;
    this.#member = Member.Next;
    const row = parseText(`{${bytes.toString('utf8')}}`, bigIntegers) as { [uuid: string]: Json };
    for (const uuid in row) this.#rows!(this.#table, uuid, row[uuid]!);
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
    const prefix = this.#prefix;
    this.#pieces = [];
    this.#numberCount = 0;
    this.#bigIntegers = undefined;
    this.#prefix = '';
    this.#onMessage(parseText(prefix + bytes.toString('utf8'), bigIntegers));
  }
}

function parseText(text: string, bigIntegers: ReadonlyMap<number, bigint> | undefined): Json {
  try {
    return bigIntegers ? parseWithBigIntegers(text, bigIntegers) : (JSON.parse(text) as Json);
  } catch (err) {
    throw new OvsdbProtocolError(`invalid JSON: ${(err as Error).message}`, { cause: err });
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
