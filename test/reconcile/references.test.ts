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

test('references - targets referenced by the same rows\' columns share one frozen list, which changes with each of them alone', (t) => {
  const SWITCH = 'bbbbbbbb-0000-4000-8000-000000000002';
  const sw = (ports: string[]): Row => ({ _uuid: SWITCH, name: 's', ports, external_ids: { mine: 'yes' } });
  const index = new ReferenceIndex(ours);
  index.apply([{ table: 'Logical_Switch', uuid: SWITCH, new: sw([P1, P2, P3]) }, { table: 'Port_Group', uuid: GROUP, new: group([P1, P2, P3]) }]);
  const onSwitch = { table: 'Logical_Switch', uuid: SWITCH, column: 'ports' };
  t.deepEqual(index.referencesTo(P1), [onSwitch, inGroup]);
  t.is(index.referencesTo(P1), index.referencesTo(P2), 'one list for both');
  t.true(Object.isFrozen(index.referencesTo(P1)));
  index.apply([{ table: 'Port_Group', uuid: GROUP, old: group([P1, P2, P3]), new: group([P2, P3]), setChanges: { ports: { added: [], removed: [P1] } } }]);
  t.deepEqual([index.referencesTo(P1), index.referencesTo(P2)], [[onSwitch], [onSwitch, inGroup]], 'leaving the group changes its list alone');
  index.apply([{ table: 'Port_Group', uuid: GROUP, old: group([P2, P3]), new: group([P1, P2, P3]), setChanges: { ports: { added: [P1], removed: [] } } }]);
  t.is(index.referencesTo(P1), index.referencesTo(P3), 'back in it, the list it shares again');
  index.apply([{ table: 'Port_Group', uuid: GROUP, old: group([P1, P2, P3]) }]);
  t.deepEqual([P1, P2, P3].map((p) => index.referencesTo(p)), [[onSwitch], [onSwitch], [onSwitch]], 'the group deleted');
  // A one-target column's reference is the row's own, not shared: a list holding it is its own, and right.
  const SMALL = 'cccccccc-0000-4000-8000-000000000003';
  const small: Row = { _uuid: SMALL, name: 'small', ports: [P2], external_ids: { mine: 'yes' } };
  index.apply([{ table: 'Port_Group', uuid: SMALL, new: small }]);
  t.deepEqual(index.referencesTo(P2), [onSwitch, { table: 'Port_Group', uuid: SMALL, column: 'ports' }]);
  index.apply([{ table: 'Port_Group', uuid: SMALL, old: small }]);
  t.deepEqual(index.referencesTo(P2), [onSwitch]);
  t.is(index.referencesTo(P2), index.referencesTo(P1), 'shared again');
});
