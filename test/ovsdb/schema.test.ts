import { readFileSync } from 'node:fs';
import test from 'ava';
import { columnKind, decodeValue, encodeValue, isOvsdbSchemaError, parseSchema } from '../../src/ovsdb/mod.js';
import type { ColumnType, Json } from '../../src/ovsdb/mod.js';
import { NB_SCHEMA } from './fixture.js';

const schema = parseSchema(JSON.parse(readFileSync(NB_SCHEMA, 'utf8')) as Json);
const col = (table: string, column: string): ColumnType => schema.tables.get(table)!.columns.get(column)!;
const UUID = '6a1e0dc2-4b55-4f5a-9a3e-1f0f5d0c7b11';

test('schema - parses the Northbound schema, with implicit _uuid and _version', (t) => {
  t.is(schema.name, 'OVN_Northbound');
  const lsp = schema.tables.get('Logical_Switch_Port')!;
  t.false(lsp.isRoot);
  t.deepEqual(lsp.indexes, [['name']]);
  t.is(columnKind(col('Logical_Switch_Port', 'name')), 'scalar');
  t.is(columnKind(col('Logical_Switch_Port', 'tag_request')), 'set', 'optional (min 0, max 1) is a set');
  t.is(columnKind(col('Logical_Switch', 'ports')), 'set');
  t.is(columnKind(col('Logical_Switch', 'other_config')), 'map');
  t.is(columnKind(col('Logical_Switch', '_uuid')), 'scalar');
  t.is(col('Logical_Switch', 'ports').key.refTable, 'Logical_Switch_Port');
  t.is(col('Logical_Switch', 'ports').max, Infinity);
});

test('schema - encodes uuids, named uuids, sets and maps by column type', (t) => {
  t.deepEqual(encodeValue(UUID, col('Logical_Switch', '_uuid'), 'w'), ['uuid', UUID]);
  t.deepEqual(encodeValue([UUID, 'newport'], col('Logical_Switch', 'ports'), 'w'), ['set', [['uuid', UUID], ['named-uuid', 'newport']]]);
  t.deepEqual(encodeValue('newport', col('Logical_Switch', 'ports'), 'w'), ['set', [['named-uuid', 'newport']]], 'a scalar for a set is wrapped');
  t.deepEqual(encodeValue([], col('Logical_Switch_Port', 'tag_request'), 'w'), ['set', []]);
  t.deepEqual(encodeValue({ a: 'b', 'c:d': '' }, col('Logical_Switch', 'other_config'), 'w'), ['map', [['a', 'b'], ['c:d', '']]]);
  t.deepEqual(encodeValue({ rate: 100 }, col('QoS', 'bandwidth'), 'w'), ['map', [['rate', 100]]]);
  t.is(encodeValue(2n ** 60n, col('NB_Global', 'nb_cfg'), 'w'), 2n ** 60n);
});

test('schema - map keys come back to their key type', (t) => {
  const intKeys: ColumnType = { key: { type: 'integer' }, value: { type: 'boolean' }, min: 0, max: Infinity };
  t.deepEqual(encodeValue({ '7': true, '9007199254740993': false }, intKeys, 'w'), ['map', [[7, true], [9007199254740993n, false]]]);
  t.true(isOvsdbSchemaError(t.throws(() => encodeValue({ seven: true }, intKeys, 'x.y'))));
});

test('schema - rejects values of the wrong type before anything is sent', (t) => {
  const wrong: [Parameters<typeof encodeValue>[0], ColumnType][] = [
    ['x', col('ACL', 'priority')],
    [1.5, col('ACL', 'priority')],
    [['a', 'b'], col('Logical_Switch_Port', 'name')],
    [{ a: 'b' }, col('Logical_Switch_Port', 'addresses')],
    [['a'], col('Logical_Switch', 'other_config')],
    [{ a: 1 }, col('Logical_Switch', 'other_config')],
    [true, col('Logical_Switch', 'ports')],
  ];
  for (const [value, type] of wrong) {
    const err = t.throws(() => encodeValue(value, type, 'Table.column'));
    t.true(isOvsdbSchemaError(err), String(value));
    t.regex(err!.message, /^Table\.column: /);
  }
});

test('schema - decodes sets (also bare one-element sets), maps, uuids and big integers', (t) => {
  t.deepEqual(decodeValue(['set', [['uuid', UUID], ['uuid', 'b']]], col('Logical_Switch', 'ports')), [UUID, 'b']);
  t.deepEqual(decodeValue(['uuid', UUID], col('Logical_Switch', 'ports')), [UUID], 'bare atom for a set');
  t.deepEqual(decodeValue(['set', []], col('Logical_Switch_Port', 'tag_request')), []);
  t.deepEqual(decodeValue(42, col('Logical_Switch_Port', 'tag_request')), [42]);
  t.deepEqual(decodeValue(['map', [['a', 'b'], ['c', 'd']]], col('Logical_Switch', 'other_config')), { a: 'b', c: 'd' });
  t.deepEqual(decodeValue(['map', [['__proto__', 'x']]], col('Logical_Switch', 'other_config')), JSON.parse('{"__proto__":"x"}') as object);
  t.is(decodeValue(['uuid', UUID], col('Logical_Switch', '_uuid')), UUID);
  t.is(decodeValue(2n ** 60n + 1n, col('NB_Global', 'nb_cfg')), 2n ** 60n + 1n);
});
