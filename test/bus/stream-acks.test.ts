import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import test from 'ava';
import { ensureStreams } from '../../src/bus/streams.js';
import { plainAckSeq, StreamAcks } from '../../src/bus/stream-acks.js';
import { startNatsServer } from '../../src/sandbox/mod.js';
import { tempDir } from '../sandbox/helpers.js';

const encode = (text: string) => new TextEncoder().encode(text);
const prefixOf = (stream: string) => encode(`{"stream":${JSON.stringify(stream)},`);

test('stream acks - nats-server\'s acknowledgement of a stored message is read off its bytes, with the sequence JSON gives', async (t) => {
  const nats = await startNatsServer({ dir: await tempDir(t) });
  t.teardown(() => nats.stop());
  const nc = await connect({ servers: nats.url });
  t.teardown(() => nc.close());
  const { status } = await ensureStreams(await jetstreamManager(nc), 'novanet', 1);
  const replies: { data: Uint8Array; seq: number }[] = [];
  for (let i = 0; i < 12; i++) {
    const reply = await nc.request(`novanet.status.acme.web.port.p${i}`, '{}');
    replies.push({ data: reply.data, seq: (reply.json<{ seq: number }>()).seq });
  }
  t.deepEqual(replies.map((r) => plainAckSeq(r.data, prefixOf(status))), replies.map((r) => r.seq));
  // And through StreamAcks, every one told stored at its sequence.
  const stored: number[] = [];
  await new Promise<void>((resolve, reject) => {
    new StreamAcks(nc, status).send(Array.from({ length: 3 }, (_, i) => ({ subject: `novanet.status.acme.web.port.q${i}`, data: '{}' })), {
      stored: (_, seq) => { if (stored.push(seq) === 3) resolve(); },
      failed: (_, err) => reject(err instanceof Error ? err : new Error(String(err))),
    });
  });
  t.deepEqual(stored, [13, 14, 15]);
});

test('stream acks - only the plain acknowledgement of that stream is read off its bytes; anything else is left to JSON', (t) => {
  const prefix = prefixOf('NOVANET_STATUS');
  t.is(plainAckSeq(encode('{"stream":"NOVANET_STATUS","seq":0}'), prefix), 0);
  t.is(plainAckSeq(encode('{"stream":"NOVANET_STATUS", "seq":123}'), prefix), 123);
  t.is(plainAckSeq(encode('{"stream":"NOVANET_STATUS","seq":999999999999999}'), prefix), 999999999999999);
  for (const other of [
    '{"stream":"NOVANET_EVENTS","seq":5}', '{"stream":"NOVANET_STATUS","seq":5,"duplicate":true}',
    '{"stream":"NOVANET_STATUS","domain":"hub","seq":5}', '{"stream":"NOVANET_STATUS","seq":05}', '{"stream":"NOVANET_STATUS","seq":}',
    '{"stream":"NOVANET_STATUS","seq":5 }', '{"stream":"NOVANET_STATUS","seq":-5}', '{"stream":"NOVANET_STATUS","seq":1234567890123456}',
    '{"stream":"NOVANET_STATUS",  "seq":5}', '{"stream":"NOVANET_STATUSX","seq":5}', '{"stream":"NOVANET_STATUS","seq":5}}',
    '{"error":{"code":503,"description":"no"},"stream":"NOVANET_STATUS","seq":5}', '', '{"stream":"NOVANET_STATUS","seq":5',
  ]) {
    t.is(plainAckSeq(encode(other), prefix), undefined, other);
  }
});
