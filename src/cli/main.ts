#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ZodError } from 'zod';
import { ConfigFileError } from '../engine/config.js';
import { auditCommands } from './audit.js';
import { Cli, CliError, ExitCode, UsageError } from './cli.js';
import { printError } from './output.js';
import type { CliCommand } from './cli.js';
import { contractCommand } from './contract.js';
import { operatorCommands } from './operator.js';
import { podCommands } from './pods.js';
import { requestCommand, resourceCommands } from './resources.js';
import { sandboxCommand } from './sandbox.js';
import { serveCommand } from './serve.js';
import { topologyCommand } from './topology.js';
import { watchCommand } from './watch.js';

/** Every command of `novanet`, in the order `--help` lists them: a new one is its module and a line here. */
const commands: readonly CliCommand[] = [
  serveCommand,
  sandboxCommand,
  podCommands,
  resourceCommands,
  requestCommand,
  watchCommand,
  auditCommands,
  operatorCommands,
  topologyCommand,
  contractCommand,
];

const EXAMPLES = `
Examples:
  novanet vpc create --name demo
  novanet subnet create --vpc-id <vpc id> --name app
  novanet port list -o json
  novanet securitygroup rule add --security-group-id <id> --direction ingress --rule '{"protocol":"tcp","portRange":{"min":22,"max":22},"remote":{"cidr":"0.0.0.0/0"}}'
  novanet --admin externalnetwork create --name ext --cidr 172.16.0.0/24 --gateway-ip 172.16.0.1 ...
  novanet history port/<id>          novanet at 120 --org acme --project web          novanet verify

Exit codes: 0 done, 1 refused or failed (one line "novanet: CODE: message" on stderr, the reply with -o json), 2 usage, 3 serve stopped at its 5 s deadline.`;

async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('novanet')
    .description('novanet — multi-tenant network control plane for OVN')
    // Inherited by every command registered below: usage errors end as exit 2, not commander's 1.
    .exitOverride()
    .showHelpAfterError()
    .addHelpText('after', EXAMPLES);
  Cli.globalOptions(program);
  const cli = new Cli(program);
  for (const register of commands) register(program, cli);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return cli.exitCode;
  } catch (err) {
    return failure(err, cli);
  }
}

function failure(err: unknown, cli: Cli): number {
  if (err instanceof CommanderError) {
    // Help asked for is success; help shown for want of a command, or a malformed line, is usage.
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? ExitCode.ok : ExitCode.usage;
  }
  if (err instanceof UsageError) {
    console.error(`novanet: ${err.message}\n(novanet --help, or novanet <command> --help)`);
    return ExitCode.usage;
  }
  const error = err instanceof CliError ? { code: err.code, message: err.message, ...(err.details !== undefined && { details: err.details }) }
    : err instanceof ZodError ? { code: 'INVALID_CONFIGURATION', message: err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), details: { issues: err.issues } }
    : err instanceof ConfigFileError ? { code: 'INVALID_CONFIGURATION', message: err.message }
    : { code: 'FAILED', message: err instanceof Error ? err.message : String(err) };
  let json = false;
  try {
    json = cli.output() === 'json';
  } catch {
    // -o itself is what was wrong: report in one line.
  }
  printError(error, json ? 'json' : 'table', { ok: false, error });
  return err instanceof CliError ? err.exitCode : ExitCode.failed;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(`novanet: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = ExitCode.failed;
});
