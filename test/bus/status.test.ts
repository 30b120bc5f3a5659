import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { Phase, subjects } from '../../events/mod.js';
import { StatusPublisher } from '../../src/bus/status.js';
import { ensureStreams } from '../../src/bus/streams.js';
import type { ResourceStatus } from '../../src/reconcile/status.js';
import { startNatsServer } from '../../src/sandbox/mod.js';
import { tempDir } from '../sandbox/helpers.js';

const scope = { org: 'acme', project: 'web' };

function status(n: number, fields: Partial<ResourceStatus> = {}): ResourceStatus {
  return { kind: 'port', id: `port-${n}`, scope, phase: Phase.Ready, observedSeq: n, ovn: { logicalSwitchPort: `lsp-${n}` }, ...fields };
}

async function publisherOn(t: ExecutionContext, prefix = 'novanet') {
  const nats = await startNatsServer({ dir: await tempDir(t) });
  t.teardown(() => nats.stop());
  const nc = await connect({ servers: nats.url, inboxPrefix: '_INBOX_engine' });
  t.teardown(() => nc.close());
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const streams = await ensureStreams(jsm, 'novanet', 1);
  return { nc, jsm, streams, publisher: new StatusPublisher(nc, js, jsm, subjects(prefix), streams.status, '_INBOX_engine') };
}

test('status publisher - a batch resolves once the stream stored every status, batches in flight together', async (t) => {
  const { publisher } = await publisherOn(t);
  const first = Array.from({ length: 300 }, (_, i) => status(i));
  const second = Array.from({ length: 5 }, (_, i) => status(i, { observedSeq: 1000 + i, phase: Phase.Pending }));
  await Promise.all([publisher.publish(first), publisher.publish(second), publisher.publish([])]);
  const stored = await publisher.latestOf(first.map(({ kind, id }) => ({ kind, id, scope })));
  t.deepEqual(stored.map((s) => s?.observedSeq), first.map((s, i) => (i < 5 ? 1000 + i : s.observedSeq)));
  t.deepEqual(stored[0], { ...second[0], scope });
});

test('status publisher - a status the stream does not store rejects its batch (the reconciler publishes it again)', async (t) => {
  const { publisher, jsm, streams } = await publisherOn(t);
  const info = await jsm.streams.info(streams.status);
  await jsm.streams.update(streams.status, { ...info.config, max_msg_size: 300 });
  const large = status(2, { message: 'x'.repeat(400) });
  const refused = await t.throwsAsync(publisher.publish([status(1), large, status(3)]));
  t.regex(refused?.message ?? '', /refused a status: .*size/);
  // The others of the batch were stored: what a retry publishes again is idempotent.
  t.is((await publisher.latestOf([{ kind: 'port', id: 'port-3', scope }]))[0]?.observedSeq, 3);
});

test('status publisher - a status on a subject no stream takes rejects its batch', async (t) => {
  const { publisher } = await publisherOn(t, 'elsewhere');
  const refused = await t.throwsAsync(publisher.publish([status(1)]));
  t.regex(refused?.message ?? '', /no stream takes the subject/);
});

test('status publisher - a batch rejects once the connection is closed', async (t) => {
  const { publisher, nc } = await publisherOn(t);
  await publisher.publish([status(1)]);
  await nc.close();
  await t.throwsAsync(publisher.publish([status(2)]));
});
