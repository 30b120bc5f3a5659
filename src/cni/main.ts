#!/usr/bin/env node
// novanet-cni: the CNI plugin a container runtime executes once per pod and operation. It is a
// thin client of the node agent (`novanet agent`), which holds the NATS and OVS connections and
// validates everything; the plugin only forwards the CNI_* environment and the configuration on
// stdin over the agent's unix socket. Node built-ins alone: no package to load at each start.
import { connect } from 'node:net';
import { AGENT_COMMANDS, CNI_VERSIONS, CniErrorCodes, DEFAULT_AGENT_SOCKET } from './protocol.js';
import type { AgentCommand, AgentRequest, AgentResponse, CniError } from './protocol.js';

/**
 * Under the kubelet's default runtime request timeout (2 minutes), so the runtime hears a
 * "try again later" rather than nothing; above the agent's own bounds on an ADD (30 s for
 * ovn-installed, 10 s per NATS request), so the agent normally answers first.
 */
const AGENT_ANSWER_TIMEOUT_MS = 110_000;
const NEWEST = '1.1.0';

async function main(): Promise<number> {
  const command = process.env.CNI_COMMAND ?? '';
  const stdin = await readStdin();
  const conf = parseObject(stdin);
  const cniVersion = typeof conf?.cniVersion === 'string' ? conf.cniVersion : NEWEST;
  if (command === 'VERSION') {
    write({ cniVersion, supportedVersions: CNI_VERSIONS });
    return 0;
  }
  if (conf === undefined) return fail(cniVersion, { code: CniErrorCodes.DECODE_FAILURE, msg: 'the network configuration on stdin is not a JSON object' });
  if (!(AGENT_COMMANDS as readonly string[]).includes(command)) {
    return fail(cniVersion, { code: CniErrorCodes.INVALID_ENVIRONMENT, msg: `CNI_COMMAND ${JSON.stringify(command)} is not one of VERSION, ${AGENT_COMMANDS.join(', ')}` });
  }
  const socket = typeof conf.agentSocket === 'string' ? conf.agentSocket : DEFAULT_AGENT_SOCKET;
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('CNI_') && e[1] !== undefined));
  let response: AgentResponse;
  try {
    response = await ask(socket, { command: command as AgentCommand, env, config: stdin });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    // STATUS reports the agent's absence as "not available"; anything else may be retried.
    return fail(cniVersion, command === 'STATUS'
      ? { code: CniErrorCodes.NOT_AVAILABLE, msg: `novanet agent unreachable on ${socket}`, details: reason }
      : { code: CniErrorCodes.TRY_AGAIN_LATER, msg: `novanet agent unreachable on ${socket}`, details: reason });
  }
  if (!response.ok) return fail(cniVersion, response.error);
  if (response.output !== undefined) write(response.output);
  return 0;
}

function ask(path: string, request: AgentRequest): Promise<AgentResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let answer = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${AGENT_ANSWER_TIMEOUT_MS} ms`)), AGENT_ANSWER_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.end(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', (err) => { clearTimeout(timer); reject(err); });
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(answer) as AgentResponse);
      } catch {
        reject(new Error('the agent closed the connection without an answer'));
      }
    });
  });
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function write(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** The spec's error shape on stdout, and a non-zero exit. */
function fail(cniVersion: string, error: CniError): number {
  write({ cniVersion, code: error.code, msg: error.msg, ...(error.details !== undefined && { details: error.details }) });
  return 1;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  write({ cniVersion: NEWEST, code: CniErrorCodes.IO_FAILURE, msg: 'novanet-cni failed', details: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
});
