import { isResourceKind, resourceKinds } from '../../events/mod.js';
import type { StatusMessage } from '../../events/mod.js';
import { NovanetClient } from '../bus/client.js';
import { interrupted, UsageError } from './cli.js';
import type { CliCommand } from './cli.js';

/** `novanet watch <kind>/<id>`: the latest status, then every change, until Ctrl-C. */
export const watchCommand: CliCommand = (program, cli) => {
  program.command('watch')
    .description('the latest status of a resource, then every change, until Ctrl-C')
    .argument('<kind/id>', `a resource, e.g. port/<id> (kinds: ${resourceKinds.join(', ')}, quarantine)`)
    .action(cli.action(async (target: string) => {
      const format = cli.output();
      const { kind, id } = resourceArgument(target, ['quarantine']);
      return cli.withNats(async (nc, config) => {
        const stop = await new NovanetClient(nc, config.prefix).watch(cli.scope(), kind, id, (s) => console.log(format === 'json' ? JSON.stringify(s) : statusLine(s)));
        await interrupted();
        await stop();
        return 0;
      });
    }));
};

function statusLine(s: StatusMessage): string {
  return [new Date().toISOString(), `${s.kind}/${s.id}`, s.phase, `seq ${s.observedSeq}`, s.message ?? ''].join('  ').trimEnd();
}

/** `<kind>/<id>` with a kind of the contract (or one of `extra`); anything else is a usage error. */
export function resourceArgument(target: string, extra: readonly string[] = []): { kind: string; id: string } {
  const [kind, id, ...more] = target.split('/');
  if (!kind || !id || more.length > 0) throw new UsageError(`'${target}' is not <kind>/<id>`);
  if (!isResourceKind(kind) && !extra.includes(kind)) throw new UsageError(`unknown resource kind '${kind}' (kinds: ${resourceKinds.join(', ')})`);
  return { kind, id };
}
