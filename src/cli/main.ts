#!/usr/bin/env node
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { NovanetClient } from '../bus/client.js';
import { isQuarantined, PROVIDER_SCOPE, streamNames, subjects } from '../../events/mod.js';
import type { LogRecord } from '../../events/mod.js';
import { EventLog } from '../bus/log.js';
import { providerOperations, tenantOperations } from '../commands/mod.js';
import type { OperationRegistry } from '../commands/mod.js';
import { configFrom, natsOptions } from '../engine/config.js';
import type { EngineConfig } from '../engine/config.js';
import { startEngine } from '../engine/engine.js';
import { installCni, runAgent } from './pods.js';
import { plugPort, runSandbox } from './sandbox.js';

const USAGE = `novanet — multi-tenant network control plane for OVN

Engine:
  novanet serve [--nats URL,…] [--ovn-nb unix:PATH|tcp:HOST:PORT|ssl:HOST:PORT,…] [--prefix P] [--resync-interval-ms N]
                [--nats-tls-ca FILE] [--nats-tls-cert FILE --nats-tls-key FILE]
                [--ovn-nb-ssl-key FILE --ovn-nb-ssl-cert FILE --ovn-nb-ssl-ca FILE]
                [--reply-prefixes '_INBOX.,_INBOX_{org}_{project}.'] [--admin-reply-prefixes '_INBOX.,_INBOX_operator.']
                                     answers a tenant's (the provider's) commands only on reply subjects under these
  novanet sandbox [--chassis] [--chassis-count N] [--tls] [--dir .novanet]
                                            local nats-server + OVN Northbound (+ a full chassis, or N of
                                            them on one Southbound, tunnelling Geneve) + engine;
                                            --tls: NATS over TLS, the Northbound over SSL (material in <dir>/tls)
  novanet sandbox plug PORT_ID [--namespace N] [--chassis-index I] [--dir .novanet]
                                            a network namespace plugged into the port on the sandbox's
                                            chassis (the I-th, default 1), with its DHCP lease, until Ctrl-C

Pods (README, "Pods"):
  novanet agent [--nats URL] [--ovs-db unix:PATH] [--socket /run/novanet/agent.sock] [--bridge br-int]
                [--host-netns NS] [--node-name N] [--overlay-mtu 1442] [--ovn-installed-timeout-ms 30000]
                                            the node agent novanet-cni talks to (one per node)
  novanet cni install [--dir /opt/cni/bin] [--conf-dir /etc/cni/net.d]
                                            the CNI plugin "novanet" and an example conflist

Resources (tenant from --org/--project or NOVANET_ORG/NOVANET_PROJECT, default "default"):
  novanet vpc create --name NAME [--cidr CIDR]
  novanet subnet create --vpc-id ID --name NAME [--cidr CIDR] [--gateway-ip IP] [--dns-servers A,B]
                        [--dhcp-enabled false] [--lease-time S] [--mtu N] [--domain-name D] [--ntp-servers A,B]
  novanet subnet update ID [--name N] [--dns-servers A,B] [--mtu N|null] [--dhcp-enabled false] ...
  novanet port create --subnet-id ID [--device-id D] [--mac-address MAC] [--ip-address IP] [--name N]
  novanet vpc route add --vpc-id ID --destination CIDR --next-hop IP
  novanet vpc route remove --vpc-id ID --route-id ID
  novanet request loadbalancer.create '{"subnetId":"…","name":"web","listeners":[{"port":80,"targetPort":8080}]}'
  novanet request port.update '{"portId":"…","allowedAddressPairs":[{"ipAddress":"10.0.1.200"}]}'
  novanet <vpc|subnet|port> delete ID       novanet <vpc|subnet|port> get ID
  novanet <vpc|subnet|port> list [--vpc-id ID] [--subnet-id ID] [--device-id D]
  novanet watch <kind>/<id>                 latest status, then every change
  novanet log [--from SEQ] [--to SEQ] [--org O --project P] [--follow]
                                            the audit log: one JSON line per commit (all
                                            tenants unless --org/--project narrow it), or
                                            {seq, quarantined, subject} for a message that
                                            is not a commit
  novanet request <resource.verb> [JSON]    any operation of the wire contract

Security groups:
  novanet securitygroup create --vpc-id ID --name NAME [--description D]
  novanet securitygroup rule remove --security-group-id ID --rule-id RULE
  novanet port update ID --security-group-ids A,B
  rules are structured: novanet request securitygroup.rule.add '{"securityGroupId":"…","direction":"ingress",
    "rule":{"protocol":"tcp","portRange":{"min":22,"max":22},"remote":{"cidr":"0.0.0.0/0"}}}'
Provider (operator) commands go to the admin subjects with --admin:
  novanet --admin externalnetwork create --name ext --cidr 172.16.0.0/24 --gateway-ip 172.16.0.1 ...
  novanet --admin request tenantquota.set '{"tenant":{"org":"acme","project":"web"},"limits":{"ports":500}}'
  (structured payloads such as rules or gatewayChassis: novanet request <operation> '<json>' [--admin])

Common flags: --nats URL (NOVANET_NATS_URL), --prefix P (NOVANET_PREFIX), --command-id ID`;

async function main(argv: string[]): Promise<number> {
  const { flags, positionals } = parseCommandLine(argv);
  const [command, ...rest] = positionals;
  if (!command || flags.help !== undefined || command === 'help') {
    console.log(`${USAGE}\n\n${operationsHelp()}`);
    return command ? 0 : 1;
  }
  const engineFlags: Partial<Record<keyof EngineConfig, string>> = {
    natsUrl: flags.nats, ovnNb: flags['ovn-nb'], prefix: flags.prefix, resyncIntervalMs: flags['resync-interval-ms'], logLevel: flags['log-level'],
    replyPrefixes: flags['reply-prefixes'], adminReplyPrefixes: flags['admin-reply-prefixes'],
    ovnNbSslKey: flags['ovn-nb-ssl-key'], ovnNbSslCert: flags['ovn-nb-ssl-cert'], ovnNbSslCa: flags['ovn-nb-ssl-ca'],
    natsTlsCa: flags['nats-tls-ca'], natsTlsCert: flags['nats-tls-cert'], natsTlsKey: flags['nats-tls-key'],
  };
  switch (command) {
    case 'serve':
      return serve(configFrom(engineFlags));
    case 'agent':
      return runAgent({
        natsUrl: flags.nats, prefix: flags.prefix, socket: flags.socket, ovsDb: flags['ovs-db'], bridge: flags.bridge, hostNetns: flags['host-netns'],
        nodeName: flags['node-name'], overlayMtu: flags['overlay-mtu'], ovnInstalledTimeoutMs: flags['ovn-installed-timeout-ms'], logLevel: flags['log-level'],
      });
    case 'cni':
      if (rest[0] !== 'install') throw new Error('usage: novanet cni install [--dir /opt/cni/bin] [--conf-dir /etc/cni/net.d]');
      return installCni({ ...(flags.dir !== undefined && { dir: flags.dir }), ...(flags['conf-dir'] !== undefined && { confDir: flags['conf-dir'] }) });
    case 'sandbox':
      if (rest[0] === 'plug') return runClient(command, rest, flags, configFrom(engineFlags));
      return runSandbox({ dir: flags.dir ?? '.novanet', chassisCount: chassisCount(flags), tls: flags.tls !== undefined, engineFlags });
    default:
      return runClient(command, rest, flags, configFrom(engineFlags));
  }
}

const ChassisNumber = z.coerce.number().int().min(1);

/** A `--chassis-count` or `--chassis-index` value: a whole number from 1. */
function chassisNumber(flag: string, value: string): number {
  const parsed = ChassisNumber.safeParse(value);
  if (!parsed.success) throw new Error(`--${flag} takes a whole number from 1, not ${JSON.stringify(value)}`);
  return parsed.data;
}

/** `--chassis-count N` (it implies --chassis), `--chassis` alone is one, neither none. */
function chassisCount(flags: Record<string, string>): number {
  if (flags['chassis-count'] !== undefined) return chassisNumber('chassis-count', flags['chassis-count']);
  return flags.chassis !== undefined ? 1 : 0;
}

/** Every operation of the wire contract, by resource: read from the registries, so a new kind lists itself. */
function operationsHelp(): string {
  const lines = (registry: OperationRegistry) => {
    const verbs = new Map<string, string[]>();
    for (const name of registry.keys()) {
      const [resource = '', ...verb] = name.split('.');
      verbs.set(resource, [...verbs.get(resource) ?? [], verb.join(' ')]);
    }
    return [...verbs].map(([resource, v]) => `  ${resource.padEnd(22)}${v.join(', ')}`).join('\n');
  };
  return `Operations (novanet <resource> <verb> …, or novanet request <resource>.<verb> JSON):\n${lines(tenantOperations)}\n` +
    `Provider operations (with --admin):\n${lines(providerOperations)}`;
}

async function serve(config: EngineConfig): Promise<number> {
  const engine = await startEngine(config);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await engine.stop();
  return 0;
}

async function runClient(command: string, rest: string[], flags: Record<string, string>, config: EngineConfig): Promise<number> {
  const scope = flags.admin !== undefined
    ? PROVIDER_SCOPE
    : { org: flags.org ?? process.env.NOVANET_ORG ?? 'default', project: flags.project ?? process.env.NOVANET_PROJECT ?? 'default' };
  const nc = await connect(natsOptions(config, 'novanet-cli'));
  const client = new NovanetClient(nc, config.prefix);
  try {
    if (command === 'log') return await printLog(nc, config, flags);
    if (command === 'sandbox') {
      const portId = rest[1];
      if (!portId) throw new Error('usage: novanet sandbox plug <port id> [--namespace N] [--dir .novanet]');
      return await plugPort(client, scope, {
        dir: flags.dir ?? '.novanet', portId,
        ...(flags.namespace !== undefined && { namespace: flags.namespace }),
        ...(flags['chassis-index'] !== undefined && { chassisIndex: chassisNumber('chassis-index', flags['chassis-index']) }),
      });
    }
    if (command === 'watch') {
      const [kind, id] = (rest[0] ?? '').split('/');
      if (!kind || !id) throw new Error('usage: novanet watch <kind>/<id>');
      await client.watch(scope, kind, id, (s) => console.log(JSON.stringify(s)));
      await new Promise<void>((resolve) => process.once('SIGINT', resolve));
      return 0;
    }
    let operation: string;
    let payload: Record<string, unknown>;
    if (command === 'request') {
      operation = rest[0] ?? '';
      payload = rest[1] ? JSON.parse(rest[1]) as Record<string, unknown> : {};
    } else {
      const [operationName, positional] = resolveOperation(command, rest);
      operation = operationName;
      payload = payloadFromFlags(operation, flags);
      if (positional !== undefined) payload[idField(operation, command)] = positional;
    }
    const reply = await client.request(scope, operation, payload);
    console.log(JSON.stringify(reply, null, 2));
    return reply.ok ? 0 : 1;
  } finally {
    await nc.close();
  }
}

/**
 * The event log as operators read it: every commit, or one tenant's, from a sequence on.
 * A quarantined message is a line of its own (`seq`, `quarantined`: why, `subject`), under
 * the tenant its subject names.
 */
async function printLog(nc: NatsConnection, config: EngineConfig, flags: Record<string, string>): Promise<number> {
  const log = new EventLog(jetstream(nc), await jetstreamManager(nc), streamNames(config.prefix).events, subjects(config.prefix));
  const sequence = (flag: string, fallback: number): number => {
    const value = flags[flag] === undefined ? fallback : Number(flags[flag]);
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${flag} wants a log sequence number, not "${flags[flag]}"`);
    return value;
  };
  const from = Math.max(1, sequence('from', 1));
  const wanted = (record: LogRecord) => {
    const scope = isQuarantined(record) ? subjects(config.prefix).parseEvents(record.subject) : record.commit.scope;
    return (flags.org === undefined || scope.org === flags.org) && (flags.project === undefined || scope.project === flags.project);
  };
  const print = (record: LogRecord) => {
    if (!wanted(record)) return;
    console.log(JSON.stringify(isQuarantined(record)
      ? { seq: record.seq, quarantined: record.reason, subject: record.subject }
      : { seq: record.seq, ...record.commit }));
  };
  if (flags.follow === undefined) {
    const last = await log.lastSeq();
    for await (const record of log.read(from, Math.min(sequence('to', last), last))) print(record);
    return 0;
  }
  const following = log.follow(from, print);
  await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  await following.stop();
  return 0;
}

const GLOBAL_FLAGS = new Set(['nats', 'ovn-nb', 'prefix', 'org', 'project', 'admin', 'resync-interval-ms', 'reply-prefixes', 'admin-reply-prefixes', 'log-level', 'dir', 'chassis', 'help']);

const allOperations = (): OperationRegistry => new Map([...tenantOperations, ...providerOperations]);

/** `securitygroup rule add X` is `securitygroup.rule.add` with X left over: the longest known operation wins. */
function resolveOperation(resource: string, words: string[]): [string, string | undefined] {
  for (let n = words.length; n > 0; n--) {
    const name = [resource, ...words.slice(0, n)].join('.');
    if (allOperations().get(name)) return [name, words[n]];
  }
  return [[resource, words[0] ?? ''].join('.'), words[1]];
}

/** The id a get/delete names positionally: the payload's `<resource>Id` field, e.g. securityGroupId. */
function idField(operation: string, resource: string): string {
  const schema = allOperations().get(operation)?.schema;
  const fields = schema instanceof z.ZodObject ? Object.keys(schema.shape as object) : [];
  return fields.find((f) => f.toLowerCase() === `${resource}id`) ?? `${resource}Id`;
}

/** `--gateway-ip 10.0.0.1` becomes `gatewayIp`; values are typed by the operation's schema. */
function payloadFromFlags(operation: string, flags: Record<string, string>): Record<string, unknown> {
  const schema = allOperations().get(operation)?.schema;
  const shape = schema instanceof z.ZodObject ? schema.shape as Record<string, z.ZodType> : {};
  const payload: Record<string, unknown> = {};
  for (const [flag, value] of Object.entries(flags)) {
    if (GLOBAL_FLAGS.has(flag)) continue;
    const field = flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    payload[field] = coerce(shape[field], value);
  }
  return payload;
}

function coerce(type: z.ZodType | undefined, value: string): unknown {
  let t: unknown = type;
  while (t instanceof z.ZodOptional || t instanceof z.ZodDefault || t instanceof z.ZodNullable) {
    if (t instanceof z.ZodNullable && value === 'null') return null;
    t = t.unwrap();
  }
  if (t instanceof z.ZodArray) return value === '' ? [] : value.split(',').map((v) => v.trim());
  // Anything that is not clearly a number or a boolean goes as typed, for the schema to refuse.
  if (t instanceof z.ZodNumber) return value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  if (t instanceof z.ZodBoolean) return Object.hasOwn(BOOLEAN_WORDS, value.toLowerCase()) ? BOOLEAN_WORDS[value.toLowerCase()] : value;
  return value;
}

/** `--name value`, `--name=value` and bare `--flag` (true); everything else is positional. */
function parseCommandLine(argv: string[]): { flags: Record<string, string>; positionals: string[] } {
  const flags: Record<string, string> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') { flags.help = 'true'; continue; }
    if (!arg.startsWith('--')) { positionals.push(arg); continue; }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const next = argv[i + 1];
    if (inline !== undefined) flags[name] = inline;
    else if (next !== undefined && !next.startsWith('--') && !BOOLEAN_FLAGS.has(name)) flags[name] = argv[++i]!;
    else flags[name] = 'true';
  }
  return { flags, positionals };
}

const BOOLEAN_FLAGS = new Set(['chassis', 'tls', 'help', 'admin', 'follow']);
const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = { true: true, yes: true, 1: true, false: false, no: false, 0: false };

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(`novanet: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
