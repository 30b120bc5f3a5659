import test from 'ava';
import fc from 'fast-check';
import { z } from 'zod';
import { Commit, subjects } from '../../events/mod.js';
import type { Scope } from '../../events/mod.js';
import { DEFAULT_DECIDE_CONFIG, ErrorCode, admit, isCommandError, providerOperations, tenantOperations } from '../../src/commands/mod.js';
import type { DecideContext } from '../../src/commands/mod.js';
import { acme, given, id, mac, outside, portCreated, vpcWithSubnet } from '../support/decider.js';

/**
 * Property-based fuzz of everything a client controls: the subject and the payload bytes.
 * Whatever arrives, the answer is either an admitted command whose decision is a valid commit,
 * or a structured refusal with a documented code — never an exception of another kind.
 */

const subs = subjects('novanet');
const encoder = new TextEncoder();
const CODES = new Set<string>(Object.values(ErrorCode));
const operationNames = [...tenantOperations.keys(), ...providerOperations.keys()];
const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__', 'isPrototypeOf'];

/** A view with something of every family, so ids in payloads can hit real resources. */
const seeded = given(vpcWithSubnet(), { scope: acme, events: [portCreated(3, '10.0.0.2')] }, outside()).view;

/** Strings a hostile client sends: unicode of every plane, lone surrogates, control characters, prototype names, real ids. */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('\ud800', '\udfff', 'a\ud800b', '\u0000', 'x\u001by', '\u0085', '', ' ', '10.1.0.0/016', '10.0.0.0/16', '10.0.0.5', '0a:4e:00:00:00:01', ...PROTOTYPE_NAMES),
  fc.constantFrom(id(1), id(2), id(3), id(10), id(50), id(51), id(999)),
  fc.uuid(),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 40 })).map(([ip, prefix]) => `${ip}/${prefix}`),
  fc.ipV4(),
);
const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    hostileString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(hostileString, fc.constantFrom('portId', 'deviceId', 'cidr', 'securityGroupId', 'org', 'project', 'vpcs')), tie('value'), { maxKeys: 4 })),
})).value;

/** A payload for one operation: mostly its own fields (so the deciders are reached), plus strays. */
function payloadFor(operation: string): fc.Arbitrary<Record<string, unknown>> {
  const schema = (tenantOperations.get(operation) ?? providerOperations.get(operation))!.schema as unknown as { shape?: Record<string, unknown> };
  const fields = Object.keys(schema.shape ?? {});
  const key = fields.length > 0 ? fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...fields) }, { weight: 1, arbitrary: hostileString }) : hostileString;
  return fc.dictionary(key, hostileValue, { maxKeys: 6 });
}

function context(scope: Scope): DecideContext {
  let n = 1000;
  return { scope, commandId: 'fuzz', now: '2026-01-01T00:00:00.000Z', config: DEFAULT_DECIDE_CONFIG, newId: () => id(n++), newMac: () => mac(n++ % 256) };
}

/** Admits and decides one request; returns the refusal code or 'accepted'. Throws on anything unstructured. */
function outcome(subject: string, data: Uint8Array): string {
  let admitted;
  try {
    admitted = admit(subs.parseCommand(subject) ?? { subject, admin: false, org: '', project: '', operation: '' }, data);
  } catch (err) {
    if (!isCommandError(err)) throw err;
    return err.code;
  }
  for (const s of strings(admitted.input)) if (!s.isWellFormed()) throw new Error(`admitted a lone surrogate: ${JSON.stringify(s)}`);
  const { operation, scope } = admitted;
  try {
    if (operation.kind === 'query') {
      operation.query(seeded, admitted.input, scope);
      return 'accepted';
    }
    const decision = operation.decide(seeded, admitted.input, context(scope));
    // What would be appended must be a valid commit: nothing half-written reaches the log.
    Commit.parse({ v: 1, commandId: 'fuzz', scope, operation: admitted.operationName, at: '2026-01-01T00:00:00.000Z', request: admitted.input, result: decision.result, events: decision.events });
    return 'accepted';
  } catch (err) {
    if (!isCommandError(err)) throw err;
    return err.code;
  }
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  return [];
}

const expectCode = (code: string) => CODES.has(code) || code === 'accepted';

test('fuzz - any subject under the prefix gets a structured answer; prototype names are unknown operations', (t) => {
  const tail = fc.array(fc.oneof(hostileString, fc.constantFrom(...PROTOTYPE_NAMES, ...operationNames)), { maxLength: 5 }).map((parts) => parts.join('.'));
  fc.assert(fc.property(fc.constantFrom('novanet.cmd.acme.web.', 'novanet.admin.cmd.', 'novanet.cmd.', 'novanet.cmd.acme.', 'novanet.cmd.ACME.web.'), tail, (head, rest) => {
    const code = outcome(head + rest, encoder.encode('{}'));
    if (code === ErrorCode.INTERNAL || !expectCode(code)) throw new Error(`${head + rest}: ${code}`);
  }), { numRuns: 3000 });
  for (const name of PROTOTYPE_NAMES) {
    t.is(outcome(`novanet.cmd.acme.web.${name}`, encoder.encode('{}')), ErrorCode.UNKNOWN_OPERATION, name);
    t.is(outcome(`novanet.admin.cmd.${name}`, encoder.encode('{}')), ErrorCode.UNKNOWN_OPERATION, name);
  }
  // Positive control: a real operation on its own subjects is admitted.
  t.is(outcome('novanet.cmd.acme.web.vpc.list', encoder.encode('{}')), 'accepted');
  t.is(outcome('novanet.admin.cmd.externalnetwork.list', encoder.encode('{}')), 'accepted');
});

test('fuzz - every operation answers hostile payloads with a decision that is a valid commit, or a documented refusal', (t) => {
  const counts = new Map<string, number>();
  for (const operation of operationNames) {
    const subject = providerOperations.has(operation) ? `novanet.admin.cmd.${operation}` : `novanet.cmd.acme.web.${operation}`;
    fc.assert(fc.property(payloadFor(operation), fc.option(hostileString, { nil: undefined }), (payload, commandId) => {
      const code = outcome(subject, encoder.encode(JSON.stringify({ ...(commandId !== undefined && { commandId }), ...payload })));
      if (!expectCode(code) || code === ErrorCode.INTERNAL) throw new Error(`${operation}: ${code}`);
      counts.set(code, (counts.get(code) ?? 0) + 1);
    }), { numRuns: 150 });
  }
  // Positive control: the fuzz reached the deciders, not only the schemas.
  t.true((counts.get('accepted') ?? 0) > 0, JSON.stringify([...counts]));
  t.true([...counts.keys()].some((c) => c !== ErrorCode.VALIDATION_FAILED && c !== 'accepted'), JSON.stringify([...counts]));
});

test('fuzz - raw bytes (not UTF-8, not JSON, huge) are refused with a code', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...operationNames), (bytes, operation) => {
    const code = outcome(`novanet.cmd.acme.web.${operation}`, bytes);
    if (!expectCode(code) || code === ErrorCode.INTERNAL) throw new Error(`${operation}: ${code}`);
  }), { numRuns: 2000 });
  t.is(outcome('novanet.cmd.acme.web.vpc.create', new Uint8Array([0x7b, 0xff, 0x7d])), ErrorCode.VALIDATION_FAILED);
  t.is(outcome('novanet.cmd.acme.web.vpc.create', encoder.encode(JSON.stringify({ commandId: 'c', name: 'x'.repeat(70_000) }))), ErrorCode.PAYLOAD_TOO_LARGE);
});

test('fuzz - a lone surrogate anywhere in a payload is refused, and a well-formed one is not (positive control)', (t) => {
  const body = (name: string) => encoder.encode(`{"commandId":"c1","vpcId":"${id(1)}","name":${JSON.stringify(name)}}`);
  for (const bad of ['\ud800', '\udfff', 'a\ud83d', '\udc00z']) {
    t.is(outcome('novanet.cmd.acme.web.securitygroup.create', body(bad)), ErrorCode.VALIDATION_FAILED, JSON.stringify(bad));
  }
  t.is(outcome('novanet.cmd.acme.web.securitygroup.create', body('web \u{1f600}')), 'accepted');
  t.is(outcome('novanet.cmd.acme.web.vpc.create', encoder.encode('{"commandId":"\\ud800","name":"x"}')), ErrorCode.VALIDATION_FAILED, 'commandId too');
  t.is(outcome('novanet.cmd.acme.web.port.create', encoder.encode(`{"commandId":"c","subnetId":"${id(2)}","deviceId":"vm\\ud800"}`)), ErrorCode.VALIDATION_FAILED, 'deviceId too');
});

test('fuzz - names and device ids refuse control characters', (t) => {
  for (const name of ['a\u0000', 'tab\there', 'new\nline', '\u007f', 'c1\u0085']) {
    t.is(outcome('novanet.cmd.acme.web.vpc.create', encoder.encode(JSON.stringify({ commandId: 'c', name }))), ErrorCode.VALIDATION_FAILED, JSON.stringify(name));
    t.is(outcome('novanet.cmd.acme.web.port.create', encoder.encode(JSON.stringify({ commandId: 'c', subnetId: id(2), deviceId: name }))), ErrorCode.VALIDATION_FAILED, JSON.stringify(name));
  }
  t.is(outcome('novanet.cmd.acme.web.vpc.create', encoder.encode(JSON.stringify({ commandId: 'c', name: 'ünïcode ok' }))), 'accepted');
});

test('fuzz - CIDR prefixes must be canonical digits', (t) => {
  for (const cidr of ['10.1.0.0/016', '10.1.0.0/ 16', '10.1.0.0/+16', '10.1.0.0/16 ', '010.1.0.0/16', '10.1.0.0/16.0']) {
    t.is(outcome('novanet.cmd.acme.web.vpc.create', encoder.encode(JSON.stringify({ commandId: 'c', name: 'v', cidr }))), ErrorCode.INVALID_CIDR, cidr);
  }
  t.is(outcome('novanet.cmd.acme.web.vpc.create', encoder.encode(JSON.stringify({ commandId: 'c', name: 'v', cidr: '10.1.0.0/16' }))), 'accepted');
});

test('fuzz - tenantquota refuses unknown keys at every level, __proto__ included', (t) => {
  const set = (body: string) => outcome('novanet.admin.cmd.tenantquota.set', encoder.encode(body));
  t.is(set('{"commandId":"c","tenant":{"org":"acme","project":"web","x":1},"limits":{}}'), ErrorCode.VALIDATION_FAILED);
  t.is(set('{"commandId":"c","tenant":{"org":"acme","project":"web"},"limits":{"__proto__":5}}'), ErrorCode.VALIDATION_FAILED);
  t.is(set('{"commandId":"c","tenant":{"org":"acme","project":"web"},"limits":{"gpus":5}}'), ErrorCode.VALIDATION_FAILED);
  t.is(outcome('novanet.admin.cmd.tenantquota.get', encoder.encode('{"tenant":{"org":"acme","project":"web","__proto__":{}}}')), ErrorCode.VALIDATION_FAILED);
  t.is(set('{"commandId":"c","tenant":{"org":"acme","project":"web"},"limits":{"ports":5,"vpcs":null}}'), 'accepted');
});

/** Every object anywhere in a payload schema is strict; no record lets arbitrary keys through. */
test('fuzz - every payload schema is strict at every level', (t) => {
  const loose: string[] = [];
  const walk = (schema: z.core.$ZodType, path: string, seen: Set<unknown>): void => {
    if (seen.has(schema)) return;
    seen.add(schema);
    const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
    switch (def.type) {
      case 'object': {
        const catchall = def.catchall as z.core.$ZodType | undefined;
        if (catchall?._zod.def.type !== 'never') loose.push(path || '(payload)');
        for (const [k, v] of Object.entries(def.shape as Record<string, z.core.$ZodType>)) walk(v, `${path}.${k}`, seen);
        return;
      }
      case 'record':
        loose.push(`${path} (record)`);
        return;
      case 'array': return walk(def.element as z.core.$ZodType, `${path}[]`, seen);
      case 'union': for (const o of def.options as z.core.$ZodType[]) walk(o, path, seen); return;
      case 'optional': case 'nullable': case 'default': case 'prefault': case 'readonly': case 'catch': case 'nonoptional':
        return walk(def.innerType as z.core.$ZodType, path, seen);
      case 'pipe': walk(def.in as z.core.$ZodType, path, seen); walk(def.out as z.core.$ZodType, path, seen); return;
      default: return;
    }
  };
  for (const name of operationNames) walk((tenantOperations.get(name) ?? providerOperations.get(name))!.schema, name, new Set());
  t.deepEqual(loose, []);
});
