// The node agent (`novanet agent`): one per node, serving novanet-cni on a unix socket with the
// node's NATS connection (a client of the tenant command subjects) and its Open_vSwitch
// connection. Kube-OVN's and ovn-kubernetes' CNI plugins are thin clients of a node daemon the
// same way: a pod's ADD pays neither a NATS connection nor an OVSDB connect and dump.
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { dirname } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import { NovanetClient } from '../bus/client.js';
import { AGENT_COMMANDS, CniErrorCodes, isCniVersion } from '../cni/protocol.js';
import type { AgentRequest, AgentResponse } from '../cni/protocol.js';
import { AttachmentEnv, NetConf } from '../cni/spec.js';
import { natsOptions } from '../engine/config.js';
import { Attachments, CniFailure, probeTenant } from './attachments.js';
import type { AgentConfig } from './config.js';
import { Links } from './links.js';
import { NodeSwitch } from './switch.js';

/** What novanet-cni sends (src/cni/protocol.ts), checked before anything reads it. */
const AgentRequestSchema = z.object({
  command: z.enum(AGENT_COMMANDS),
  config: z.string(),
  env: z.record(z.string(), z.string()),
});

export interface Agent {
  readonly socket: string;
  stop(): Promise<void>;
}

/** A request line longer than this is refused: a network config is a few KiB. */
const MAX_REQUEST_BYTES = 1 << 20;
const PROBE_TIMEOUT_MS = 2000;

export async function startAgent(config: AgentConfig, logger: Logger): Promise<Agent> {
  const nc = await connect({ ...natsOptions(config, `novanet-agent-${config.nodeName}`), maxReconnectAttempts: -1 });
  let nodeSwitch: NodeSwitch | undefined;
  let server: Server | undefined;
  try {
    nodeSwitch = await NodeSwitch.connect(config.ovsDb, config.bridge, logger.child({ component: 'ovsdb' }));
    const plugged = nodeSwitch.all();
    logger.info({ plugged: plugged.length, attachments: plugged.map((p) => `${p.containerId}/${p.ifname}`) }, 'agent found the pods it plugged');
    const client = new NovanetClient(nc, config.prefix, config.requestTimeoutMs);
    const attachments = new Attachments(client, nodeSwitch, new Links(config.hostNetns), config);
    const handler = new Handler(attachments, nc, client, nodeSwitch, logger);
    server = await listen(config.socket, (socket) => handler.serve(socket));
    logger.info({ socket: config.socket, ovsDb: config.ovsDb, bridge: config.bridge }, 'novanet agent listening');
  } catch (err) {
    await nodeSwitch?.close();
    await nc.close();
    throw err;
  }
  const [sw, srv] = [nodeSwitch, server];
  return {
    socket: config.socket,
    async stop() {
      await new Promise<void>((resolve) => srv.close(() => resolve()));
      await sw.close();
      await nc.close();
      await rm(config.socket, { force: true });
    },
  };
}

async function listen(path: string, onConnection: (socket: Socket) => void): Promise<Server> {
  await mkdir(dirname(path), { recursive: true });
  // A socket file left by a previous agent that died: nobody listens there any more.
  await rm(path, { force: true });
  // Half-open: the plugin ends its side after the request and waits for the answer.
  const server = createServer({ allowHalfOpen: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => { server.off('error', reject); resolve(); });
  });
  // Only root (the container runtime) may ask the agent to plug pods.
  await chmod(path, 0o600);
  return server;
}

class Handler {
  constructor(
    private readonly attachments: Attachments,
    private readonly nc: NatsConnection,
    private readonly client: NovanetClient,
    private readonly nodeSwitch: NodeSwitch,
    private readonly logger: Logger,
  ) {}

  serve(socket: Socket): void {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_REQUEST_BYTES) socket.destroy();
    });
    socket.on('end', () => {
      // answer() never rejects by design; should it, the socket goes rather than the agent.
      this.answer(text).then((response) => socket.end(`${JSON.stringify(response)}\n`)).catch(() => socket.destroy());
    });
  }

  async answer(text: string): Promise<AgentResponse> {
    const started = performance.now();
    let request: AgentRequest;
    try {
      request = AgentRequestSchema.parse(JSON.parse(text));
    } catch {
      return { ok: false, error: { code: CniErrorCodes.DECODE_FAILURE, msg: 'not a novanet-cni request' } };
    }
    const containerId = request.env.CNI_CONTAINERID;
    try {
      const output = await this.dispatch(request);
      this.logger.info({ command: request.command, containerId, ifname: request.env.CNI_IFNAME, ms: Math.round(performance.now() - started) }, 'cni request done');
      return output === undefined ? { ok: true } : { ok: true, output };
    } catch (err) {
      const failure = err instanceof CniFailure ? err : new CniFailure(CniErrorCodes.IO_FAILURE, err instanceof Error ? err.message : String(err));
      this.logger.warn({ command: request.command, containerId, code: failure.code, msg: failure.message, ms: Math.round(performance.now() - started) }, 'cni request failed');
      return { ok: false, error: failure.toCni() };
    }
  }

  async dispatch(request: AgentRequest): Promise<unknown> {
    const conf = netConf(request.config);
    switch (request.command) {
      case 'ADD':
        return this.attachments.add(conf, attachmentEnv(request.env));
      case 'DEL':
        return this.attachments.del(conf, attachmentEnv(request.env));
      case 'CHECK':
        return this.attachments.check(attachmentEnv(request.env));
      case 'GC':
        onlySince11(conf, 'GC');
        return this.attachments.gc(conf);
      case 'STATUS':
        onlySince11(conf, 'STATUS');
        return this.status(conf);
      default: {
        const never: never = request.command;
        throw new CniFailure(CniErrorCodes.INVALID_ENVIRONMENT, `unknown command ${String(never)}`);
      }
    }
  }

  /** 50 while any of NATS, the engine (a read in the config's tenant) or Open_vSwitch does not answer. */
  async status(conf: NetConf): Promise<void> {
    if (!this.nodeSwitch.connected) throw new CniFailure(CniErrorCodes.NOT_AVAILABLE, 'the agent has lost its Open_vSwitch connection');
    try {
      await withTimeout(this.nc.rtt(), PROBE_TIMEOUT_MS);
    } catch (err) {
      throw new CniFailure(CniErrorCodes.NOT_AVAILABLE, 'the agent cannot reach NATS', err instanceof Error ? err.message : String(err));
    }
    const tenant = probeTenant(conf);
    if (tenant === undefined) return;
    try {
      await withTimeout(this.client.request(tenant, 'quota.get', {}), PROBE_TIMEOUT_MS);
    } catch (err) {
      throw new CniFailure(CniErrorCodes.NOT_AVAILABLE, 'the engine does not answer', err instanceof Error ? err.message : String(err));
    }
  }
}

function netConf(text: string): NetConf {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CniFailure(CniErrorCodes.DECODE_FAILURE, 'the network configuration on stdin is not JSON');
  }
  const version = (value as { cniVersion?: unknown } | null)?.cniVersion;
  if (typeof value === 'object' && value !== null && !isCniVersion(version)) {
    throw new CniFailure(CniErrorCodes.INCOMPATIBLE_VERSION, `cniVersion ${JSON.stringify(version)} is not one of 0.4.0, 1.0.0, 1.1.0`);
  }
  const parsed = NetConf.safeParse(value);
  if (!parsed.success) throw new CniFailure(CniErrorCodes.INVALID_CONFIG, 'invalid network configuration', issues(parsed.error.issues));
  return parsed.data;
}

function attachmentEnv(env: Readonly<Record<string, string>>): AttachmentEnv {
  const parsed = AttachmentEnv.safeParse(env);
  if (!parsed.success) throw new CniFailure(CniErrorCodes.INVALID_ENVIRONMENT, 'invalid CNI environment', issues(parsed.error.issues));
  return parsed.data;
}

function onlySince11(conf: NetConf, command: string): void {
  if (conf.cniVersion !== '1.1.0') throw new CniFailure(CniErrorCodes.INCOMPATIBLE_VERSION, `${command} is a CNI 1.1.0 command; the config says ${conf.cniVersion}`);
}

const issues = (list: readonly { path: readonly PropertyKey[]; message: string }[]): string =>
  list.map((i) => `${i.path.map(String).join('.') || '(config)'}: ${i.message}`).join('; ');

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (err: unknown) => { clearTimeout(timer); reject(err instanceof Error ? err : new Error(String(err))); });
  });
}
