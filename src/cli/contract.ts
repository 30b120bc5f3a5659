import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { asyncApiDocument, contractSchemas } from '../contract/asyncapi.js';
import { ExitCode } from './cli.js';
import type { CliCommand } from './cli.js';

/** `novanet contract --out DIR`: the AsyncAPI document and the JSON Schemas (`npm run build` writes them to dist/contract). */
export const contractCommand: CliCommand = (program, cli) => {
  program.command('contract')
    .description('write the wire contract as documents: asyncapi.json (AsyncAPI 3) and schemas/<name>.json (JSON Schema draft-07)')
    .option('--out <dir>', 'where to write them', 'dist/contract')
    .action(cli.action(async (options: { out: string }) => {
      const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };
      await mkdir(join(options.out, 'schemas'), { recursive: true });
      await writeFile(join(options.out, 'asyncapi.json'), `${JSON.stringify(asyncApiDocument(version), null, 2)}\n`);
      for (const [name, schema] of Object.entries(contractSchemas())) {
        await writeFile(join(options.out, 'schemas', `${name}.json`), `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', $id: `${name}.json`, ...schema }, null, 2)}\n`);
      }
      return ExitCode.ok;
    }));
};
