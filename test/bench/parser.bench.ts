import { JsonStreamParser } from '../../src/ovsdb/mod.js';
import { fmt, median, section, timedSync } from './report.js';
import type { Row } from './report.js';

const ROWS = 20_000;
const CHUNK_BYTES = 64 * 1024;
const REPEATS = 7;

/**
 * OVSDB stream parser overhead: a monitor_cond reply holding 20k Logical_Switch_Port
 * rows (update2 "initial" format, as novanet writes them), fed to JsonStreamParser in
 * 64 KiB chunks like a socket delivers it, against one JSON.parse of the same bytes.
 * The parser's own work is finding message boundaries (and big integers) byte by byte;
 * the ratio is what that framing costs on top of JSON.parse.
 */
export function benchParser(): Row[] {
  const bytes = Buffer.from(JSON.stringify(dump(ROWS)), 'utf8');
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) chunks.push(bytes.subarray(at, at + CHUNK_BYTES));

  const streamed: number[] = [];
  const whole: number[] = [];
  // One warm-up round each, then alternate so neither side gets a quieter machine.
  for (let i = 0; i <= REPEATS; i++) {
    const s = timedSync(() => parseChunks(chunks));
    const w = timedSync(() => JSON.parse(bytes.toString('utf8')));
    if (i > 0) streamed.push(s);
    if (i > 0) whole.push(w);
  }
  const mb = bytes.length / 1e6;
  const streamRate = mb / (median(streamed) / 1000);
  const wholeRate = mb / (median(whole) / 1000);
  section(`OVSDB stream parser: ${ROWS} LSP rows, ${fmt(mb)} MB, ${chunks.length} chunks of 64 KiB (median of ${REPEATS})`, [
    `JsonStreamParser: ${fmt(median(streamed))} ms (${fmt(streamRate)} MB/s)`,
    `one JSON.parse:   ${fmt(median(whole))} ms (${fmt(wholeRate)} MB/s)`,
    `overhead: ${(median(streamed) / median(whole)).toFixed(2)}x the time of a bare JSON.parse`,
  ]);
  return [{
    name: `OVSDB parser: ${ROWS} rows in 64 KiB chunks`,
    unit: 'MB/s', value: streamRate, baseline: wholeRate, ratio: median(streamed) / median(whole),
    reads: 'stream time / JSON.parse time (1 = no framing cost)',
  }];
}

function parseChunks(chunks: readonly Buffer[]): void {
  let messages = 0;
  const parser = new JsonStreamParser(() => { messages++; });
  for (const chunk of chunks) parser.push(chunk);
  if (messages !== 1) throw new Error(`parser emitted ${messages} messages, expected 1`);
}

const uuid = (prefix: string, n: number): string => `${prefix}-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** What ovsdb-server answers a monitor_cond on Logical_Switch_Port with, for `rows` novanet ports. */
function dump(rows: number): unknown {
  const ports: Record<string, unknown> = {};
  for (let i = 0; i < rows; i++) {
    const id = uuid('00000000', i);
    const address = `0a:4e:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')} 10.0.${i >> 8}.${i & 255}`;
    ports[id] = {
      initial: {
        name: id,
        // A one-element set travels as its bare atom.
        addresses: address,
        port_security: address,
        dhcpv4_options: ['uuid', uuid('dddddddd', i >> 8)],
        up: false,
        external_ids: ['map', [
          ['novanet:owner', 'novanet'], ['novanet:kind', 'port'], ['novanet:id', id],
          ['novanet:org', 'bench'], ['novanet:project', 'perf'], ['novanet:seq', String(i + 3)], ['novanet:name', `port-${i}`],
        ]],
      },
    };
  }
  return { id: 7, result: { Logical_Switch_Port: ports }, error: null };
}
