import { mkdtemp, rm } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import test from 'ava';
import { pino } from 'pino';
import { NovanetClient } from '../../src/bus/client.js';
import { configFrom, natsOptions } from '../../src/engine/config.js';
import { startEngine } from '../../src/engine/engine.js';
import { OvsdbClient } from '../../src/ovsdb/mod.js';
import { makeTestCa, startNatsServer, startNorthbound } from '../../src/sandbox/mod.js';
import { run } from '../../src/sandbox/process.js';

/** Everything a plain-text client gets from a TLS-only server, sending CONNECT and PING after its INFO, until it closes. */
function plainTextAnswer(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connectTcp(port, '127.0.0.1');
    let seen = '';
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (chunk) => {
      seen += chunk.toString('latin1');
      if (seen.startsWith('INFO ') && seen.includes('\r\n') && !seen.includes('CONNECT_SENT')) {
        socket.write('CONNECT {"verbose":false}\r\nPING\r\n');
        seen += 'CONNECT_SENT';
      }
    });
    socket.on('close', () => resolve(seen));
    socket.on('error', () => undefined);
  });
}

test('tls - the engine on NATS over TLS with a client certificate and on an ssl: Northbound; plain-text and wrong-CA clients are refused on both', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-tls-'));
  const stops: (() => Promise<unknown> | void)[] = [() => rm(dir, { recursive: true, force: true })];
  t.teardown(async () => { for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined); });
  const ca = await makeTestCa(dir, 'novanet');
  const server = await ca.issue('server');
  const engineCert = await ca.issue('engine');
  const rogueCa = await makeTestCa(dir, 'rogue');
  const rogue = await rogueCa.issue('client');

  const nats = await startNatsServer({ dir: join(dir, 'nats'), tls: { ...server, verifyClients: true } });
  stops.push(() => nats.stop());
  const nb = await startNorthbound({ dir: join(dir, 'ovn'), ssl: server });
  stops.push(() => nb.stop());
  t.regex(nats.url, /^tls:\/\//);

  // The engine configured as an operator would: environment names of the README's table.
  const config = configFrom({}, {
    NOVANET_NATS_URL: nats.url, NOVANET_NATS_TLS_CA: ca.caCert, NOVANET_NATS_TLS_CERT: engineCert.certificate, NOVANET_NATS_TLS_KEY: engineCert.privateKey,
    NOVANET_OVN_NB: nb.sslRemote, NOVANET_OVN_NB_SSL_KEY: engineCert.privateKey, NOVANET_OVN_NB_SSL_CERT: engineCert.certificate, NOVANET_OVN_NB_SSL_CA: ca.caCert,
    NOVANET_LOG_LEVEL: 'silent',
  });
  const engine = await startEngine(config, pino({ level: process.env.NOVANET_TEST_LOG ?? 'silent' }));
  stops.push(() => engine.stop());
  const nc = await connect(natsOptions(config, 'tls-test'));
  stops.push(() => nc.close());
  const client = new NovanetClient(nc);
  const scope = { org: 'tls', project: 'p1' };
  const vpc = (await client.call(scope, 'vpc.create', { name: 'v' })).result.vpc as { id: string };
  const subnet = (await client.call(scope, 'subnet.create', { vpcId: vpc.id, name: 's' })).result.subnet as { id: string };
  const port = (await client.call(scope, 'port.create', { subnetId: subnet.id })).result.port as { id: string };
  await client.waitFor(scope, 'port', port.id, (s) => s.phase === 'Ready', 20_000);
  // An operator's ovn-nbctl reads the same Northbound with the same kind of files (-p/-c/-C).
  const lsp = await run(['ovn-nbctl', `--db=${nb.sslRemote}`, '-p', engineCert.privateKey, '-c', engineCert.certificate, '-C', ca.caCert, '--bare', '--columns=name', 'find', 'Logical_Switch_Port', `name=${port.id}`]);
  t.is(lsp.trim(), port.id);

  // NATS: plain text, a client that trusts another CA, a client without a certificate, one whose certificate another CA signed.
  const plain = await plainTextAnswer(nats.port);
  t.regex(plain, /"tls_required":true/);
  t.false(plain.includes('PONG'), 'a plain-text CONNECT and PING are not answered: the server closes the connection');
  const servers = nats.url;
  await t.throwsAsync(connect({ servers, tls: { caFile: rogueCa.caCert, certFile: engineCert.certificate, keyFile: engineCert.privateKey }, reconnect: false }), undefined, 'a client trusting another CA');
  await t.throwsAsync(connect({ servers, tls: { caFile: ca.caCert }, reconnect: false }), undefined, 'a client without a certificate');
  await t.throwsAsync(connect({ servers, tls: { caFile: ca.caCert, certFile: rogue.certificate, keyFile: rogue.privateKey }, reconnect: false }), undefined, 'a client certificate from another CA');

  // OVSDB: the same three cases on the ssl: remote, and plain tcp to its port.
  const sslRemote = nb.sslRemote!;
  await t.throwsAsync(OvsdbClient.connect({ remote: sslRemote.replace(/^ssl:/, 'tcp:'), requestTimeoutMs: 5000 }), undefined, 'plain text to the SSL port');
  await t.throwsAsync(OvsdbClient.connect({ remote: sslRemote, ssl: { ...engineCert, caCert: rogueCa.caCert }, requestTimeoutMs: 5000 }), undefined, 'trusting another CA');
  await t.throwsAsync(OvsdbClient.connect({ remote: sslRemote, ssl: rogue, requestTimeoutMs: 5000 }), undefined, 'a certificate from another CA');
  await t.throwsAsync(OvsdbClient.connect({ remote: sslRemote, ssl: { ...rogue, caCert: ca.caCert }, requestTimeoutMs: 5000 }), undefined, 'a client certificate from another CA');
});

test('tls - the configuration refuses an ssl: Northbound without its files and a client certificate without its key', (t) => {
  t.throws(() => configFrom({ ovnNb: 'ssl:127.0.0.1:6641' }, {}), { message: /NOVANET_OVN_NB_SSL_KEY/ });
  t.throws(() => configFrom({ natsTlsCert: '/etc/novanet/tls/engine.crt' }, {}), { message: /needs its key/ });
  t.notThrows(() => configFrom({ ovnNb: 'ssl:10.0.0.1:6641,ssl:10.0.0.2:6641,ssl:10.0.0.3:6641', ovnNbSslKey: 'k', ovnNbSslCert: 'c', ovnNbSslCa: 'a' }, {}));
  t.throws(() => configFrom({ ovnNb: 'tcp:10.0.0.1:6641,' }, {}));
});
