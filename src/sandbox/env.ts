import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SandboxArgumentError } from './errors.js';

// sun_path holds 108 bytes with its NUL; the longest name we put in a dir is ovn-controller's
// automatic "ovn-controller.<pid>.ctl" (pid up to 7 digits).
const maxSocketPath = 107;
const longestSocketName = 'ovn-controller.4194304.ctl';

/** Absolute, existing, and short enough to hold the unix sockets the daemons create in it. */
export async function prepareDir(dir: string): Promise<string> {
  const abs = resolve(dir);
  if (Buffer.byteLength(`${abs}/${longestSocketName}`) > maxSocketPath) {
    throw new SandboxArgumentError(`sandbox dir ${abs} is too long for unix socket paths (max ${maxSocketPath - longestSocketName.length - 1} bytes)`);
  }
  await mkdir(abs, { recursive: true });
  return abs;
}

/** Child environment that keeps every OVS/OVN run, log and db file in dir, never /var/run. */
export function sandboxEnv(dir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    OVS_RUNDIR: dir,
    OVS_LOGDIR: dir,
    OVS_DBDIR: dir,
    OVN_RUNDIR: dir,
    OVN_LOGDIR: dir,
    OVN_DBDIR: dir,
  };
}
