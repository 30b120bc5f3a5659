import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './process.js';
import type { SslFiles } from './types.js';

const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A throwaway certificate authority in a directory, and the certificates it signs. */
export interface TestCa {
  readonly caCert: string;
  /** A certificate for `who` (its CN) and its key, naming 127.0.0.1 and localhost, with this CA's certificate. */
  issue(who: string): Promise<SslFiles>;
}

/**
 * Makes a CA with openssl in `dir` (files `<name>-ca.crt`/`.key`, `<name>-<who>.crt`/`.key`).
 * ECDSA P-256: made in milliseconds, and both OVS and nats-server accept it. For tests and the
 * sandbox only: the keys are unencrypted and valid for two days.
 */
export async function makeTestCa(dir: string, name: string): Promise<TestCa> {
  await mkdir(dir, { recursive: true });
  const caCert = join(dir, `${name}-ca.crt`);
  const caKey = join(dir, `${name}-ca.key`);
  await run(['openssl', 'req', '-x509', ...ec, '-keyout', caKey, '-out', caCert, '-days', '2', '-subj', `/CN=${name} test CA`]);
  return {
    caCert,
    async issue(who) {
      const base = join(dir, `${name}-${who}`);
      await writeFile(`${base}.ext`, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
      await run(['openssl', 'req', ...ec, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${who}`]);
      await run(['openssl', 'x509', '-req', '-in', `${base}.csr`, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', `${base}.crt`, '-days', '2', '-extfile', `${base}.ext`]);
      return { certificate: `${base}.crt`, privateKey: `${base}.key`, caCert };
    },
  };
}
