import test from 'ava';
import type { Row, RowUpdate } from '../../src/ovsdb/mod.js';
import { ReferenceIndex } from '../../src/reconcile/references.js';

const GROUP = 'aaaaaaaa-0000-4000-8000-000000000001';
const [P1, P2, P3] = ['11111111-0000-4000-8000-000000000001', '22222222-0000-4000-8000-000000000002', '33333333-0000-4000-8000-000000000003'];
const ours = (row: Row): boolean => (row.external_ids as Record<string, string>)['mine'] === 'yes';
const group = (ports: string[], mine = 'yes'): Row => ({ _uuid: GROUP, name: 'g', ports, external_ids: { mine } });
const inGroup = { table: 'Port_Group', uuid: GROUP, column: 'ports' };

test('references - a modify that names its set changes moves only those ports, and agrees with a full recomputation', (t) => {
  const index = new ReferenceIndex(ours);
  index.apply([{ table: 'Port_Group', uuid: GROUP, new: group([P1, P2]) }]);
  const modify: RowUpdate = {
    table: 'Port_Group', uuid: GROUP, old: group([P1, P2]), new: group([P2, P3]),
    setChanges: { ports: { added: [P3], removed: [P1] } },
  };
  index.apply([modify]);
  t.deepEqual(index.referencesTo(P1), []);
  t.deepEqual(index.referencesTo(P2), [inGroup]);
  t.deepEqual(index.referencesTo(P3), [inGroup]);

  const full = new ReferenceIndex(ours);
  full.apply([{ table: 'Port_Group', uuid: GROUP, new: group([P1, P2]) }]);
  full.apply([{ table: 'Port_Group', uuid: GROUP, old: modify.old!, new: modify.new! }]);
  for (const port of [P1, P2, P3]) t.deepEqual(index.referencesTo(port), full.referencesTo(port), `the same for ${port}`);
});

test('references - a modify that takes the row away from us drops all its references, set changes or not', (t) => {
  const index = new ReferenceIndex(ours);
  index.apply([{ table: 'Port_Group', uuid: GROUP, new: group([P1, P2]) }]);
  index.apply([{ table: 'Port_Group', uuid: GROUP, old: group([P1, P2]), new: group([P1, P2], 'no'), setChanges: {} }]);
  t.deepEqual([P1, P2].map((p) => index.referencesTo(p)), [[], []]);
});
