import { prepareDir, sandboxEnv } from './env.js';
import { ctl, Schemas, startOvsdb } from './ovsdb.js';
import type { Northbound, NorthboundOptions } from './types.js';

/** ovsdb-server with the OVN Northbound schema; the db file is persistent state and is reused. */
export async function startNorthbound(opts: NorthboundOptions): Promise<Northbound> {
  const dir = await prepareDir(opts.dir);
  const env = sandboxEnv(dir);
  const nb = await startOvsdb({ name: 'ovnnb_db', dir, schema: Schemas.northbound, env, keep: true });
  return {
    remote: nb.remote,
    dir,
    pid: nb.daemon.pid,
    nbctl: ctl('ovn-nbctl', nb.remote, env),
    stop: () => nb.daemon.stop(),
  };
}
