
type Json = Record<string, unknown>;

/** Output formats every command knows; some add their own (topology: dot, svg). */
export type OutputFormat = 'table' | 'json' | (string & {});

/**
 * A result as people read it (`kubectl`/`openstack` style): a list as a table of its
 * scalar fields, one resource as field/value lines; or the whole reply envelope in JSON.
 */
export function printResult(result: Json, format: OutputFormat, envelope: unknown = result): void {
  if (format === 'json') {
    console.log(JSON.stringify(envelope, null, 2));
    return;
  }
  const entries = Object.entries(result);
  if (entries.length === 0) {
    console.log('done');
    return;
  }
  for (const [name, value] of entries) {
    if (Array.isArray(value)) console.log(value.length === 0 ? `no ${name}` : table(value as Json[]));
    else if (isObject(value)) console.log(fields(value));
    else console.log(`${name}: ${cell(value)}`);
  }
}

/** One line on stderr with the code and the message; with `-o json` also the envelope (details too) on stdout. */
export function printError(error: { code: string; message: string }, format: OutputFormat, envelope: unknown): void {
  if (format === 'json') console.log(JSON.stringify(envelope, null, 2));
  console.error(`novanet: ${error.code}: ${error.message}`);
}

/** Rows as aligned columns: every field that is a scalar (or a list of scalars) in some row. */
export function table(rows: readonly Json[], columns: readonly string[] = scalarColumns(rows)): string {
  const header = columns.map((c) => c.replace(/[A-Z]/g, (l) => `_${l}`).toUpperCase());
  const body = rows.map((row) => columns.map((c) => cell(row[c])));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  return [header, ...body].map((r) => r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]!))).join('  ')).join('\n');
}

function scalarColumns(rows: readonly Json[]): string[] {
  const columns = new Set<string>();
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) if (!isObject(v) && !(Array.isArray(v) && v.some(isObject))) columns.add(k);
  }
  // The tenant is the one asked for: org and project only repeat it.
  columns.delete('org');
  columns.delete('project');
  return [...columns];
}

function fields(resource: Json): string {
  const width = Math.max(...Object.keys(resource).map((k) => k.length));
  return Object.entries(resource).map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join('\n');
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value) && !value.some(isObject)) return value.join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A progress line on stderr while a long replay runs, on a terminal only (scripts get
 * clean output): `replaying 12000/40000`.
 */
export function progress(label: string): { update(done: number, total: number): void; end(): void } {
  if (!process.stderr.isTTY) return { update: () => undefined, end: () => undefined };
  let last = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const width = 30;
      const filled = total === 0 ? width : Math.round((done / total) * width);
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    },
    end() {
      process.stderr.write('\r\x1b[K');
    },
  };
}
