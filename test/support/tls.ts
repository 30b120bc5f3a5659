import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/sandbox/process.js';

/** A certificate and its key, signed by `ca`, as PEM files. */
export interface Pem {
  readonly certificate: string;
  readonly privateKey: string;
  /** The CA certificate that signed it. */
  readonly caCert: string;
}

/** OVS and NATS take the same three files under different names. */
export const sslFiles = (p: Pem) => ({ privateKey: p.privateKey, certificate: p.certificate, caCert: p.caCert });

const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * A CA and certificates it signs, made with openssl in `dir` (ECDSA P-256: fast to make,
 * and both OVS and NATS accept it). Every certificate names 127.0.0.1 and localhost.
 */
export async function makeCa(dir: string, name: string): Promise<{ caCert: string; issue(who: string): Promise<Pem> }> {
  const caCert = join(dir, `${name}-ca.crt`);
  const caKey = join(dir, `${name}-ca.key`);
  await run(['openssl', 'req', '-x509', ...ec, '-keyout', caKey, '-out', caCert, '-days', '2', '-subj', `/CN=${name} test CA`]);
  return {
    caCert,
    async issue(who) {
      const base = join(dir, `${name}-${who}`);
      const ext = `${base}.ext`;
      await writeFile(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
      await run(['openssl', 'req', ...ec, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${who}`]);
      await run(['openssl', 'x509', '-req', '-in', `${base}.csr`, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', `${base}.crt`, '-days', '2', '-extfile', ext]);
      return { certificate: `${base}.crt`, privateKey: `${base}.key`, caCert };
    },
  };
}
