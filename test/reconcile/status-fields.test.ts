import test from 'ava';
import { desiredRows, statusDetails } from '../../src/reconcile/kinds.js';
import type { Present } from '../../src/reconcile/kinds.js';
import type { Ownership, RowOwner } from '../../src/reconcile/names.js';
import { statusOf } from '../../src/reconcile/status.js';
import { acme, given, id, portCreated, vpcWithSubnet } from '../support/decider.js';

const own: Ownership = { owner: 'novanet' };

/**
 * The wire's text of a status is its fields in one order: the common ones, the message if any,
 * the OVN UUIDs, then the kind's details. statusOf builds it field by field; this is the literal it
 * replaced, so a reordering (the digest sorts keys and would not see it) fails here.
 */
test('status - every phase\'s fields in the wire\'s order, as the one literal built them', (t) => {
  const { view } = given(vpcWithSubnet(), { scope: acme, events: [portCreated(5, '10.0.1.5')] });
  const ref: RowOwner = { kind: 'port', id: id(5) };
  const desired = desiredRows(view, ref, own);
  t.truthy(desired);
  const all: Present = (row) => ({ _uuid: row.uuid });
  const none: Present = () => undefined;
  const cases = [
    statusOf(view, ref, acme, 9, desired, all, undefined, () => 'in'),
    statusOf(view, ref, acme, 9, desired, none, undefined, () => 'in'),
    statusOf(view, ref, acme, 9, desired, all, 'refused', () => 'in'),
    statusOf(view, ref, acme, 9, undefined, all, undefined, () => 'in'),
  ];
  t.deepEqual(cases.map((s) => s.phase), ['Ready', 'Pending', 'Failed', 'Deleted']);
  for (const s of cases) {
    const { kind, id: sid, scope, observedSeq, phase, message, ovn } = s;
    const literal = phase === 'Deleted'
      ? { kind, id: sid, scope, observedSeq, phase }
      : { kind, id: sid, scope, observedSeq, phase, ...(message !== undefined && { message }), ovn, ...statusDetails(view, ref, desired!.rows, phase === 'Pending' ? none : all) };
    t.is(JSON.stringify(s), JSON.stringify(literal), phase);
  }
});
