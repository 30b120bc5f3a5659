import { z } from 'zod';
import { Commit, DEFAULT_PREFIX, StatusMessage } from '../../events/mod.js';
import { ErrorCode, providerOperations, tenantOperations } from '../commands/mod.js';
import type { OperationRegistry } from '../commands/mod.js';

/** What every request is answered with (events/reply.ts), with the error codes the contract names. */
const ReplySchema = z.union([
  z.strictObject({ ok: z.literal(true), commandId: z.string().optional(), seq: z.number().int().nonnegative(), result: z.record(z.string(), z.unknown()) }),
  z.strictObject({
    ok: z.literal(false), commandId: z.string().optional(),
    error: z.strictObject({ code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]), message: z.string(), details: z.unknown().optional() }),
  }),
]).meta({ description: 'A reply: {ok: true, commandId, seq, result} or {ok: false, commandId, error: {code, message, details}}' });

/** The operator requests' replies carry other codes as well (VERIFY_FAILED is the CLI's): open. */
const OperatorReply = z.looseObject({ ok: z.boolean() });

type JsonSchema = Record<string, unknown>;

/**
 * A zod schema as JSON Schema (zod 4's own `toJSONSchema`), draft-07 as AsyncAPI's schema
 * format expects. Payloads are written as a client sends them (`io: input`: defaults
 * optional); what JSON Schema cannot say (the well-formed-Unicode check of every string,
 * cross-field rules) stays the engine's to check.
 */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _draft, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-7', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** What a provider operation's schema, message and AsyncAPI operation are named by: `admin.externalnetwork.create`. */
export const PROVIDER_NAME_PREFIX = 'admin.';

/** The contract's JSON Schemas by name: every operation's payload, the reply, the commit, the status. */
export function contractSchemas(): Record<string, JsonSchema> {
  const payloads = (registry: OperationRegistry, prefix: string) => [...registry].map(([name, op]) => [`${prefix}${name}`, jsonSchema(op.schema, 'input')] as const);
  return Object.fromEntries([
    ...payloads(tenantOperations, ''),
    // A provider operation may share its name with a tenant one (networkclass.get): its own name.
    ...payloads(providerOperations, PROVIDER_NAME_PREFIX),
    ['reply', jsonSchema(ReplySchema, 'output')],
    ['commit', jsonSchema(Commit, 'output')],
    ['status', jsonSchema(StatusMessage, 'output')],
    ['operatorReply', jsonSchema(OperatorReply, 'output')],
  ]);
}

const ref = (path: string) => ({ $ref: path });
const tenantParameters = {
  org: { description: 'the tenant\'s organisation: [a-z0-9][a-z0-9-]{0,62}' },
  project: { description: 'the tenant\'s project: [a-z0-9][a-z0-9-]{0,62}' },
};

/**
 * The wire contract as an AsyncAPI 3 document: every subject with its messages — commands
 * (request, reply), commits on the event log, statuses, operator requests — over the
 * default prefix `novanet` (the prefix is configurable). events/README.md is the prose of the
 * same contract.
 */
export function asyncApiDocument(version: string): Record<string, unknown> {
  const schemas = contractSchemas();
  const channels: Record<string, unknown> = {
    reply: {
      address: null,
      description: 'the requester\'s inbox (the NATS reply subject of the request): _INBOX.… or the tenant\'s _INBOX_<org>_<project>.…, the operator\'s _INBOX_operator.…; any other reply subject is dropped unanswered',
      messages: { reply: ref('#/components/messages/reply'), operatorReply: ref('#/components/messages/operatorReply') },
    },
    events: {
      address: `${DEFAULT_PREFIX}.evt.{org}.{project}`, parameters: tenantParameters,
      description: 'the event log (stream <PREFIX>_EVENTS): one commit per accepted tenant command, appended fenced', messages: { commit: ref('#/components/messages/commit') },
    },
    providerEvents: { address: `${DEFAULT_PREFIX}.evt._provider`, description: 'the event log: the provider\'s commits', messages: { commit: ref('#/components/messages/commit') } },
    status: {
      address: `${DEFAULT_PREFIX}.status.{org}.{project}.{kind}.{id}`,
      parameters: { ...tenantParameters, kind: { description: 'the resource kind (vpc, subnet, port, …)' }, id: { description: 'the resource id' } },
      description: 'the latest statuses of a resource (stream <PREFIX>_STATUS, the last 5 per subject)', messages: { status: ref('#/components/messages/status') },
    },
    providerStatus: {
      address: `${DEFAULT_PREFIX}.status._provider.{kind}.{id}`,
      parameters: { kind: { description: 'externalnetwork, externalippool or quarantine' }, id: { description: 'the resource id (events-<seq> for a quarantined message)' } },
      messages: { status: ref('#/components/messages/status') },
    },
  };
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {
    reply: { name: 'reply', contentType: 'application/json', payload: ref('#/components/schemas/reply') },
    operatorReply: { name: 'operatorReply', contentType: 'application/json', payload: ref('#/components/schemas/operatorReply') },
    commit: { name: 'commit', contentType: 'application/json', headers: { type: 'object', properties: { 'Nats-Expected-Last-Sequence': { type: 'string', description: 'the fencing header: seq − 1' } } }, payload: ref('#/components/schemas/commit') },
    status: { name: 'status', contentType: 'application/json', payload: ref('#/components/schemas/status') },
  };
  const command = (operation: string, address: string, provider: boolean, kind: 'command' | 'query') => {
    const name = `${provider ? PROVIDER_NAME_PREFIX : ''}${operation}`;
    const channel = `${provider ? 'admin' : 'cmd'}.${operation}`;
    messages[name] = { name, contentType: 'application/json', payload: ref(`#/components/schemas/${name}`) };
    channels[channel] = { address, ...(provider ? {} : { parameters: tenantParameters }), messages: { request: ref(`#/components/messages/${name}`) } };
    operations[name] = {
      action: 'receive', channel: ref(`#/channels/${channel}`), messages: [ref(`#/channels/${channel}/messages/request`)],
      summary: `${operation}: ${kind === 'query' ? 'a read, appends nothing' : 'appends one commit'}${provider ? ' (on the admin subjects)' : ''}`,
      reply: { channel: ref('#/channels/reply'), messages: [ref('#/channels/reply/messages/reply')] },
    };
  };
  for (const [name, op] of tenantOperations) command(name, `${DEFAULT_PREFIX}.cmd.{org}.{project}.${name}`, false, op.kind);
  for (const [name, op] of providerOperations) command(name, `${DEFAULT_PREFIX}.admin.cmd.${name}`, true, op.kind);
  for (const [name, summary] of [['digest', 'digests of the engine\'s views (novanet verify)'], ['plan', 'what a command would append and write, committing nothing'], ['drift', 'the reconciler\'s pending Northbound diff']] as const) {
    const channel = `ops.${name}`;
    channels[channel] = { address: `${DEFAULT_PREFIX}.admin.ops.${name}`, messages: { request: { name: `ops.${name}`, contentType: 'application/json', payload: { type: 'object' } } } };
    operations[`ops.${name}`] = {
      action: 'receive', channel: ref(`#/channels/${channel}`), messages: [ref(`#/channels/${channel}/messages/request`)], summary: `operator: ${summary}`,
      reply: { channel: ref('#/channels/reply'), messages: [ref('#/channels/reply/messages/operatorReply')] },
    };
  }
  operations.appendCommit = { action: 'send', channel: ref('#/channels/events'), messages: [ref('#/channels/events/messages/commit')], summary: 'the engine appends a commit' };
  operations.appendProviderCommit = { action: 'send', channel: ref('#/channels/providerEvents'), messages: [ref('#/channels/providerEvents/messages/commit')], summary: 'the engine appends a provider commit' };
  operations.publishStatus = { action: 'send', channel: ref('#/channels/status'), messages: [ref('#/channels/status/messages/status')], summary: 'the reconciler publishes a resource\'s status' };
  operations.publishProviderStatus = { action: 'send', channel: ref('#/channels/providerStatus'), messages: [ref('#/channels/providerStatus/messages/status')], summary: 'the reconciler publishes a provider resource\'s (or a quarantined message\'s) status' };
  return {
    asyncapi: '3.0.0',
    info: { title: 'novanet', version, description: 'Multi-tenant overlay-network control plane for OVN: commands over NATS request/reply, an event log and statuses on JetStream. The prose contract is events/README.md.' },
    defaultContentType: 'application/json',
    servers: { local: { host: '127.0.0.1:4222', protocol: 'nats', description: 'the sandbox (npm start)' } },
    channels, operations,
    components: { schemas, messages },
  };
}
