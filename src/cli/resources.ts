import type { Command } from 'commander';
import { z } from 'zod';
import { NovanetClient } from '../bus/client.js';
import { providerOperations, tenantOperations } from '../commands/mod.js';
import type { Operation } from '../commands/mod.js';
import { UsageError } from './cli.js';
import type { Cli, CliCommand } from './cli.js';

/** Payload fields the global options fill: the tenant comes from the subject, the key from --command-id. */
const ENVELOPE = new Set(['org', 'project', 'commandId']);

const allOperations = new Map([...tenantOperations, ...providerOperations]);

/**
 * `novanet <resource> <verb…> [ID] [--field value …]` for every operation of the wire
 * contract, read from the registries: a new kind or verb is a command with its own help
 * (its fields as flags, typed by its schema) without a line here. Provider operations go to
 * the admin subjects (with `--admin` also those both have, such as networkclass.list).
 */
export const resourceCommands: CliCommand = (program, cli) => {
  const resources = new Map<string, Command>();
  for (const [name, operation] of allOperations) {
    const [resource = '', ...verbs] = name.split('.');
    let parent = resources.get(resource);
    if (!parent) {
      parent = program.command(resource);
      resources.set(resource, parent);
    }
    for (const verb of verbs.slice(0, -1)) {
      parent = parent.commands.find((c) => c.name() === verb) ?? parent.command(verb).description(`${resource} ${verb} operations`);
    }
    addOperation(parent, verbs.at(-1) ?? '', name, operation, cli);
  }
  // The top-level help lists each resource with its verbs, as the registries have them.
  for (const [resource, command] of resources) {
    const names = [...allOperations.keys()].filter((n) => n.startsWith(`${resource}.`)).map((n) => n.slice(resource.length + 1).replaceAll('.', ' '));
    command.description(`${tenantOperations.has(`${resource}.${names[0]}`.replaceAll(' ', '.')) ? '' : '(provider) '}${names.join(', ')}`);
  }
};

/** `novanet request <resource.verb> [JSON]`: any operation with a JSON payload. */
export const requestCommand: CliCommand = (program, cli) => {
  program.command('request')
    .description('any operation of the wire contract, with its payload as JSON')
    .argument('<operation>', 'resource.verb, e.g. loadbalancer.create')
    .argument('[json]', 'the payload', '{}')
    .action(cli.action(async (operation: string, json: string) => {
      if (!allOperations.has(operation)) throw new UsageError(`unknown operation '${operation}' (novanet --help lists them)`);
      let payload: unknown;
      try {
        payload = JSON.parse(json);
      } catch (err) {
        throw new UsageError(`the payload is not JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new UsageError('the payload is a JSON object');
      return send(cli, operation, payload as Record<string, unknown>);
    }));
};

function addOperation(parent: Command, verb: string, name: string, operation: Operation, cli: Cli): void {
  const shape = fieldsOf(operation.schema);
  const resource = name.split('.')[0]!;
  const idField = Object.keys(shape).find((f) => f.toLowerCase() === `${resource}id`);
  const command = parent.command(verb).description(`${name} (${operation.kind === 'query' ? 'read' : 'appends a commit'})`);
  if (idField) command.argument('[id]', `the ${idField} (or --${kebab(idField)})`);
  for (const [field, type] of Object.entries(shape)) {
    if (ENVELOPE.has(field)) continue;
    command.option(`--${kebab(field)} <value>`, describe(type));
  }
  command.action(cli.action(async (...args: unknown[]) => {
    const sub = args.at(-1) as Command;
    const options = sub.opts<Record<string, string>>();
    const payload: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(options)) payload[field] = coerce(shape[field], value, field);
    const id = idField ? args[0] : undefined;
    if (idField && typeof id === 'string') payload[idField] = id;
    return send(cli, name, payload);
  }));
}

async function send(cli: Cli, operation: string, payload: Record<string, unknown>): Promise<number> {
  const format = cli.output();
  const scope = cli.scopeFor(operation);
  const commandId = cli.commandId;
  const body = commandId !== undefined && payload.commandId === undefined ? { ...payload, commandId } : payload;
  return cli.withNats(async (nc, config) => cli.printReply(await new NovanetClient(nc, config.prefix).request(scope, operation, body), format));
}

/**
 * A payload's fields as flags: an object's, or for a union of objects (port.create: one port's
 * fields, or `ports`) every option's, none of them required since each option needs only its own.
 */
function fieldsOf(schema: z.ZodType): Record<string, z.ZodType> {
  if (schema instanceof z.ZodObject) return schema.shape as Record<string, z.ZodType>;
  if (!(schema instanceof z.ZodUnion)) return {};
  const options = (schema.options as z.ZodType[]).map(fieldsOf);
  return Object.fromEntries(options.flatMap((fields) => Object.entries(fields)).map(([field, type]) => [field, type.optional()]));
}

const kebab = (field: string): string => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The innermost type under optional, default and nullable wrappers, and which of them there were. */
function unwrap(type: z.ZodType | undefined): { inner: unknown; optional: boolean; nullable: boolean } {
  let inner: unknown = type;
  let optional = false;
  let nullable = false;
  while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault || inner instanceof z.ZodNullable) {
    if (inner instanceof z.ZodNullable) nullable = true;
    else optional = true;
    inner = inner.unwrap();
  }
  return { inner, optional, nullable };
}

const structured = (t: unknown): boolean => t instanceof z.ZodObject || (t instanceof z.ZodArray && structured(t.element));

function describe(type: z.ZodType): string {
  const { inner, optional, nullable } = unwrap(type);
  const kind = structured(inner) ? 'JSON' : inner instanceof z.ZodArray ? 'comma-separated list' : inner instanceof z.ZodNumber ? 'number'
    : inner instanceof z.ZodBoolean ? 'true or false' : inner instanceof z.ZodEnum ? (inner.options as string[]).join(' | ') : 'text';
  return `${kind}${nullable ? ', null clears' : ''}${optional ? '' : ' (required)'}`;
}

/** A flag's text typed by the field's schema. Anything that is not clearly a number or a boolean goes as typed, for the schema to refuse. */
function coerce(type: z.ZodType | undefined, value: string, field: string): unknown {
  const { inner, nullable } = unwrap(type);
  if (nullable && value === 'null') return null;
  if (structured(inner)) {
    try {
      return JSON.parse(value);
    } catch {
      throw new UsageError(`--${kebab(field)} wants JSON, e.g. --${kebab(field)} '${inner instanceof z.ZodArray ? '[{…}]' : '{…}'}'`);
    }
  }
  if (inner instanceof z.ZodArray) return value === '' ? [] : value.split(',').map((v) => v.trim());
  if (inner instanceof z.ZodNumber) return value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  if (inner instanceof z.ZodBoolean) return Object.hasOwn(BOOLEAN_WORDS, value.toLowerCase()) ? BOOLEAN_WORDS[value.toLowerCase()] : value;
  return value;
}

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = { true: true, yes: true, 1: true, false: false, no: false, 0: false };
