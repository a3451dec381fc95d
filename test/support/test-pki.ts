/**
 * A throw-away PKI for TLS tests, made with the openssl command: one CA, and leaf certificates
 * signed by it (server or client), each with its key, in a temp directory removed at exit.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Paths of one certificate and its key (PEM). */
export interface Leaf {
  readonly cert: string;
  readonly key: string;
}

/** A test CA that signs leaves. */
export interface TestPki {
  readonly caCert: string;
  /** A leaf for `commonName` with `san` (e.g. 'DNS:localhost,IP:127.0.0.1'), for `usage`. */
  leaf(name: string, commonName: string, san: string, usage: 'serverAuth' | 'clientAuth'): Leaf;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
}

/** Creates a CA (P-256, valid one day) in a fresh temp directory. */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-pki-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1',
    '-subj', '/CN=portcullis-test-ca'], dir);
  return {
    caCert: path.join(dir, 'ca.pem'),
    leaf(name, commonName, san, usage) {
      const ext = `${name}.ext`;
      writeFileSync(path.join(dir, ext),
        `subjectAltName=${san}\nextendedKeyUsage=${usage}\nbasicConstraints=CA:FALSE\n`);
      openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`,
        '-subj', `/CN=${commonName}`], dir);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key',
        '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', ext], dir);
      return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
    },
  };
}
