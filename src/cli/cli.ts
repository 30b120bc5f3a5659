import { Option } from 'commander';
import type { Command } from 'commander';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { PROVIDER_SCOPE } from '../../events/mod.js';
import { tenantOperations } from '../commands/mod.js';
import type { Reply, Scope } from '../../events/mod.js';
import { CONFIG_FILE_ENV, configFrom, ENV, fileKey, FLAGS, natsOptions, readConfigFile } from '../engine/config.js';
import type { EngineConfig } from '../engine/config.js';
import { printError, printResult } from './output.js';
import type { OutputFormat } from './output.js';

/**
 * One `novanet` command: registers itself (and its subcommands) on the program. Adding a
 * command is one such function and its line in main.ts.
 */
export type CliCommand = (program: Command, cli: Cli) => void;


/** A command line that names no command, resource or verb the CLI has, or a malformed argument: usage, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * A failure the CLI reports as one line `novanet: CODE: message` (the whole envelope with
 * `-o json`): a refused command, a verification that found a difference.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(readonly code: string, message: string, readonly details?: unknown, readonly exitCode = 1) {
    super(message);
  }
}

/** Exit codes: 0 done, 1 refused or failed, 2 usage, 3 a serve stopped at its deadline. */
export const ExitCode = { ok: 0, failed: 1, usage: 2, forcedStop: 3 } as const;

/** What every command reads from the global options: configuration, tenant, output, a NATS connection. */
export class Cli {
  /** What the command that ran says the exit code is. */
  exitCode: number = ExitCode.ok;

  constructor(private readonly program: Command) {}

  /** A command's action: what it resolves with is the process's exit code. */
  action<A extends unknown[]>(run: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
    return async (...args: A) => { this.exitCode = await run(...args); };
  }

  /** Registers the options every command takes, before and after its name. */
  static globalOptions(program: Command): void {
    for (const [key, flag] of Object.entries(FLAGS)) program.option(`--${flag} <value>`, `${ENV[key as keyof EngineConfig]}, ${fileKey(key)} in the config file`);
    program
      .option('--config <file>', `TOML configuration file (or ${CONFIG_FILE_ENV}); flags and environment win over it`)
      .option('--org <org>', 'tenant organisation (NOVANET_ORG, default "default")')
      .option('--project <project>', 'tenant project (NOVANET_PROJECT, default "default")')
      .option('--admin', 'the provider (operator) scope: admin subjects')
      .option('--command-id <id>', 'idempotency key of a mutating command (default: a fresh one)')
      .addOption(new Option('-o, --output <format>', 'table (the default on a terminal) or json (the default otherwise)'));
  }

  private get globals(): Record<string, string | boolean | undefined> {
    return this.program.opts();
  }

  /** Flags, then environment, then the configuration file, then defaults. */
  config(): EngineConfig {
    const flags: Partial<Record<keyof EngineConfig, string>> = {};
    for (const [key, flag] of Object.entries(FLAGS)) {
      const value = this.globals[camel(flag)];
      if (typeof value === 'string') flags[key as keyof EngineConfig] = value;
    }
    const file = this.string('config') ?? process.env[CONFIG_FILE_ENV];
    return configFrom(flags, process.env, file ? readConfigFile(file) : {});
  }

  scope(): Scope {
    if (this.globals.admin === true) return PROVIDER_SCOPE;
    return { org: this.string('org') ?? process.env.NOVANET_ORG ?? 'default', project: this.string('project') ?? process.env.NOVANET_PROJECT ?? 'default' };
  }

  /**
   * Where an operation goes: the admin subjects with `--admin` or for an operation only the
   * provider has (externalnetwork.create); the tenant's otherwise (networkclass.list is both).
   */
  scopeFor(operation: string): Scope {
    return this.globals.admin === true || !tenantOperations.has(operation) ? PROVIDER_SCOPE : this.scope();
  }

  /** The tenant named explicitly (`--org`, `--project`), for commands that default to everything. */
  tenantFilter(): { org?: string; project?: string } {
    const org = this.string('org');
    const project = this.string('project');
    return { ...(org !== undefined && { org }), ...(project !== undefined && { project }) };
  }

  /** The global options given as text, by commander's names (`--ovn-nb` is `ovnNb`): for commands with a configuration of their own (the agent). */
  globalFlags(): Record<string, string | undefined> {
    return Object.fromEntries(Object.entries(this.globals).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]));
  }

  get commandId(): string | undefined {
    return this.string('commandId');
  }

  /** `-o`, checked against what the command can print; by default tables on a terminal, JSON for scripts. */
  output(allowed: readonly string[] = ['table', 'json'], fallback?: string): OutputFormat {
    const chosen = this.string('output') ?? fallback ?? (process.stdout.isTTY ? 'table' : 'json');
    if (!allowed.includes(chosen)) throw new UsageError(`-o ${chosen}: this command prints ${allowed.join(' or ')}`);
    return chosen;
  }

  /** Runs `work` with a NATS connection from the configuration, closed afterwards. */
  async withNats<T>(work: (nc: NatsConnection, config: EngineConfig) => Promise<T>): Promise<T> {
    const config = this.config();
    const nc = await connect(natsOptions(config, 'novanet-cli'));
    try {
      return await work(nc, config);
    } finally {
      await nc.close();
    }
  }

  /** Prints a reply as a table or its envelope, and says how the command ends. */
  printReply(reply: Reply, format: OutputFormat): number {
    if (reply.ok) {
      printResult(reply.result, format, reply);
      return ExitCode.ok;
    }
    printError(reply.error, format, reply);
    return ExitCode.failed;
  }

  private string(name: string): string | undefined {
    const value = this.globals[name];
    return typeof value === 'string' ? value : undefined;
  }
}

const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Resolves once SIGINT or SIGTERM arrives (Ctrl-C ends a watch, a follow, a serve). */
export function interrupted(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** A non-negative log sequence from an argument or flag. */
export function sequenceArgument(value: string, what: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new UsageError(`${what} wants a log sequence number, not "${value}"`);
  return n;
}
