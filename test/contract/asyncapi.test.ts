import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Parser } from '@asyncapi/parser';
import { Ajv } from 'ajv';
import test from 'ava';
import { PROVIDER_SCOPE } from '../../events/mod.js';
import { providerOperations, tenantOperations } from '../../src/commands/mod.js';
import { asyncApiDocument, contractSchemas, PROVIDER_NAME_PREFIX } from '../../src/contract/asyncapi.js';
import { startStack } from '../support/stack.js';
import type { Stack } from '../support/stack.js';

const written = fileURLToPath(new URL('../../contract/', import.meta.url));

let stack: Stack;
test.before(async () => { stack = await startStack(); });
test.after.always(async () => { await stack?.stop(); });

test('contract - npm run build writes the AsyncAPI 3 document and a JSON Schema per payload; the AsyncAPI parser finds no error', async (t) => {
  const document = JSON.parse(await readFile(`${written}asyncapi.json`, 'utf8')) as Record<string, unknown>;
  t.deepEqual(document, JSON.parse(JSON.stringify(asyncApiDocument('0.1.0'))), 'the build wrote what the code describes');
  // port.create is one port or many (`ports`): either form, each with its own required fields.
  const schema = JSON.parse(await readFile(`${written}schemas/port.create.json`, 'utf8')) as { anyOf: { required: string[] }[] };
  t.deepEqual(schema.anyOf.map((form) => form.required.sort()), [['commandId', 'subnetId'], ['commandId', 'ports']]);

  const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document));
  const errors = diagnostics.filter((d) => d.severity === 0);
  t.deepEqual(errors.map((d) => `${d.path.join('.')}: ${d.message}`), []);
  t.truthy(parsed);
  const operations = parsed!.operations();
  t.is(operations.length, tenantOperations.size + providerOperations.size + 3 + 4);
  const create = operations.get('vpc.create')!;
  t.is(create.channels().all()[0]!.address(), 'novanet.cmd.{org}.{project}.vpc.create');
  t.truthy(create.reply(), 'a request with its reply');
  t.is(parsed!.channels().get('status')!.address(), 'novanet.status.{org}.{project}.{kind}.{id}');
});

/** A value a JSON Schema accepts, as small as it allows: required fields only, the first enum member, the least items. */
function sample(schema: Record<string, unknown>): unknown {
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  for (const key of ['anyOf', 'oneOf'] as const) if (schema.type === undefined && Array.isArray(schema[key])) return sample(schema[key][0] as Record<string, unknown>);
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      // "At least one of": the first alternative's fields are required too.
      const alternative = ((schema.anyOf ?? []) as { required?: string[] }[])[0]?.required ?? [];
      return Object.fromEntries([...(schema.required ?? []) as string[], ...alternative].map((name) => [name, sample(properties[name]!)]));
    }
    case 'array': return Array.from({ length: (schema.minItems as number | undefined) ?? 0 }, () => sample(schema.items as Record<string, unknown>));
    case 'integer': case 'number': return (schema.minimum as number | undefined) ?? ((schema.exclusiveMinimum as number | undefined) ?? 0) + 1;
    case 'boolean': return true;
    case 'string': {
      if (schema.format === 'uuid') return randomUUID();
      const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern, 'u') : undefined;
      const candidates = ['sample', '10.0.0.0/16', '10.0.0.10', '0a:4e:00:00:00:01', 'acme', 'physnet'];
      return candidates.find((c) => !pattern || pattern.test(c)) ?? 'sample';
    }
    default: return {};
  }
}

test('contract - a schema-valid sample of every operation passes the engine\'s admission; one field more fails both', async (t) => {
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  const schemas = contractSchemas();
  for (const [registry, scope, prefix] of [[tenantOperations, { org: 'contract', project: 'p1' }, ''], [providerOperations, PROVIDER_SCOPE, PROVIDER_NAME_PREFIX]] as const) {
    for (const name of registry.keys()) {
      const validate = ajv.compile(schemas[`${prefix}${name}`]!);
      const payload = sample(schemas[`${prefix}${name}`]!) as Record<string, unknown>;
      t.true(validate(payload), `${name}: the sample fits the schema ${ajv.errorsText(validate.errors)}`);
      const reply = await stack.client.request(scope, name, payload);
      t.false(!reply.ok && reply.error.code === 'VALIDATION_FAILED', `${name}: ${JSON.stringify(payload)} → ${JSON.stringify(reply)}`);

      const extra = { ...payload, notAField: 1 };
      t.false(validate(extra), `${name}: the schema refuses an unknown field`);
      const refused = await stack.client.request(scope, name, extra);
      t.true(!refused.ok && refused.error.code === 'VALIDATION_FAILED', `${name}: the engine refuses it too`);
    }
  }
});
