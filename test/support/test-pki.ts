/**
 * A throw-away PKI for TLS tests, made with the openssl command: one CA, and leaf certificates
 * signed by it (server or client), each with its key, in a temp directory removed at exit.
 * `issue` takes any subject, SAN (including raw DER, for names openssl's syntax cannot write)
 * and validity window; dates other than "now + 1 day" go through `openssl ca`.
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

/** What `issue` puts in a leaf. */
export interface LeafOptions {
  /**
   * Subject RDN lines as in an openssl config `[dn]` section, most general first
   * (`['O=Acme', 'CN=svc']`); `\r`, `\n` escapes are openssl's. Default: `CN=<name>`.
   */
  readonly subject?: readonly string[];
  /** subjectAltName value: `DNS:a,URI:spiffe://...`, or `DER:<hex>` for raw GeneralNames. */
  readonly san?: string;
  readonly usage?: 'serverAuth' | 'clientAuth';
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

/** A test CA that signs leaves. */
export interface TestPki {
  readonly caCert: string;
  /** A leaf for `commonName` with `san` (e.g. 'DNS:localhost,IP:127.0.0.1'), for `usage`. */
  leaf(name: string, commonName: string, san: string, usage: 'serverAuth' | 'clientAuth'): Leaf;
  /** A leaf as `opts` describe it (client certificate by default). */
  issue(name: string, opts?: LeafOptions): Leaf;
  /** Marks `leaf` revoked in the CA's database (see `crl`). */
  revoke(leaf: Leaf): void;
  /** Writes the CA's current revocation list (PEM, valid one day) and returns its path. */
  crl(): string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
}

/** `2026-12-04T10:00:00Z` as openssl ca's `20261204100000Z`. */
function asn1Time(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

const kEc = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const kCaConfig = `[ca]
default_ca = test
[test]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
preserve = yes
default_crl_days = 1
[any]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = optional
emailAddress = optional
`;

/** Creates a CA (P-256, valid one day) in a fresh temp directory. */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-pki-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  openssl(['req', '-x509', ...kEc, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1',
    '-subj', '/CN=portcullis-test-ca'], dir);
  writeFileSync(path.join(dir, 'ca.cnf'), kCaConfig);
  writeFileSync(path.join(dir, 'index.txt'), '');
  writeFileSync(path.join(dir, 'serial'), '1000\n');

  const issue = (name: string, opts: LeafOptions = {}): Leaf => {
    const subject = opts.subject ?? [`CN=${name}`];
    writeFileSync(path.join(dir, `${name}.req.cnf`),
      `[req]\nprompt = no\ndistinguished_name = dn\n[dn]\n${subject.join('\n')}\n`);
    const ext = [`extendedKeyUsage=${opts.usage ?? 'clientAuth'}`, 'basicConstraints=CA:FALSE'];
    if (opts.san !== undefined) ext.push(`subjectAltName=${opts.san}`);
    writeFileSync(path.join(dir, `${name}.ext`), `${ext.join('\n')}\n`);
    openssl(['req', '-new', '-utf8', ...kEc, '-keyout', `${name}.key`, '-out', `${name}.csr`,
      '-config', `${name}.req.cnf`], dir);
    if (opts.notBefore === undefined && opts.notAfter === undefined) {
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key',
        '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`], dir);
    } else {
      const from = opts.notBefore ?? new Date(Date.now() - 60_000);
      const to = opts.notAfter ?? new Date(Date.now() + 86_400_000);
      openssl(['ca', '-batch', '-config', 'ca.cnf', '-notext', '-keyfile', 'ca.key',
        '-cert', 'ca.pem', '-in', `${name}.csr`, '-out', `${name}.pem`, '-extfile', `${name}.ext`,
        '-startdate', asn1Time(from), '-enddate', asn1Time(to)], dir);
    }
    return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
  };

  return {
    caCert: path.join(dir, 'ca.pem'),
    leaf: (name, commonName, san, usage) =>
      issue(name, { subject: [`CN=${commonName}`], san, usage }),
    issue,
    revoke(leaf) {
      openssl(['ca', '-batch', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.pem',
        '-revoke', leaf.cert], dir);
    },
    crl() {
      openssl(['ca', '-batch', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.pem',
        '-gencrl', '-out', 'crl.pem'], dir);
      return path.join(dir, 'crl.pem');
    },
  };
}
