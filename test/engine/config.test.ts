import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { ConfigFileError, configFrom, readConfigFile } from '../../src/engine/config.js';

async function tomlFile(t: { teardown(fn: () => Promise<void>): void }, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'novanet-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'novanet.toml');
  await writeFile(path, text);
  return path;
}

test('config - flags win over the environment, the environment over the file, the file over the defaults', async (t) => {
  const file = readConfigFile(await tomlFile(t, [
    '# novanet.toml',
    'nats_url = "nats://file:4222"',
    'prefix = "fromfile"',
    'resync_interval_ms = 5000',
    'reply_prefixes = ["_INBOX.", "_INBOX_{org}_{project}."]',
    'http_listen = "0.0.0.0:9464"',
  ].join('\n')));
  const env = { NOVANET_PREFIX: 'fromenv', NOVANET_NATS_URL: 'nats://env:4222' };
  const config = configFrom({ natsUrl: 'nats://flag:4222' }, env, file);
  t.is(config.natsUrl, 'nats://flag:4222', 'flag');
  t.is(config.prefix, 'fromenv', 'environment');
  t.is(config.resyncIntervalMs, 5000, 'file, a TOML number');
  t.deepEqual(config.replyPrefixes, ['_INBOX.', '_INBOX_{org}_{project}.'], 'file, a TOML array');
  t.is(config.httpListen, '0.0.0.0:9464');
  t.is(config.ovnNb, 'unix:.novanet/ovn/ovnnb_db.sock', 'default');
  t.is(configFrom({}, {}, file).natsUrl, 'nats://file:4222');
});

test('config - a file that is not TOML, or names a setting that does not exist, is refused with where and why', async (t) => {
  const unknown = await tomlFile(t, 'nats_ulr = "nats://x:4222"\n');
  t.throws(() => readConfigFile(unknown), { instanceOf: ConfigFileError, message: /unknown setting 'nats_ulr' \(known: nats_url, / });
  const broken = await tomlFile(t, 'nats_url = \n');
  t.throws(() => readConfigFile(broken), { instanceOf: ConfigFileError, message: /^config file .*novanet\.toml: / });
  const tooFast = readConfigFile(await tomlFile(t, 'resync_interval_ms = 5\n'));
  t.throws(() => configFrom({}, {}, tooFast), { message: /resyncIntervalMs/ });
});
