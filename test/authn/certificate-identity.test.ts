/**
 * Client certificates become identities (src/authn/certificate-identity.ts), with certificates
 * made by openssl in the test. threats.md: "Header injection from certificate / claim data
 * (CRLF)": a SAN or DN holding CR, LF or NUL is refused before any header could be built.
 */
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import {
  certificateIdentity, checkedIdentity, principalFromCertificate, principalFromClaims,
  withCertificate,
} from '../../src/authn/index.js';
import { createTestPki, type LeafOptions, type TestPki } from '../support/test-pki.js';

let pki: TestPki;
before(() => {
  pki = createTestPki();
});

/** DER of one GeneralName with context tag `tag` (2 DNS, 6 URI) and `value`'s octets. */
function generalName(tag: number, value: string): Buffer {
  const octets = Buffer.from(value, 'latin1');
  return Buffer.concat([Buffer.from([0x80 | tag, octets.length]), octets]);
}

/** A `subjectAltName=DER:...` value holding `names`. */
function derSan(...names: Buffer[]): string {
  const body = Buffer.concat(names);
  return `DER:${Buffer.concat([Buffer.from([0x30, body.length]), body]).toString('hex')}`;
}

let serial = 0;
function x509(opts: LeafOptions): X509Certificate {
  return new X509Certificate(readFileSync(pki.issue(`c${serial++}`, opts).cert));
}

function codeOf(opts: LeafOptions): string | undefined {
  const result = certificateIdentity(x509(opts));
  return result.ok ? undefined : result.code;
}

describe('authn/certificate-identity', () => {
  test('names, fingerprint and expiry are read from the certificate', () => {
    const cert = x509({
      subject: ['C=DE', 'O=Acme\\, Inc', 'CN=billing'],
      san: 'DNS:billing.internal,DNS:billing,URI:https://acme.example/svc,email:ops@acme.example',
    });
    const result = certificateIdentity(cert);
    assert.ok(result.ok);
    const id = result.certificate;
    assert.equal(id.subject, 'CN=billing,O=Acme\\, Inc,C=DE', 'RFC 4514: most specific RDN first');
    assert.equal(id.issuer, 'CN=portcullis-test-ca');
    assert.deepEqual(id.dns, ['billing.internal', 'billing']);
    assert.deepEqual(id.uris, ['https://acme.example/svc']);
    assert.deepEqual(id.emails, ['ops@acme.example']);
    assert.equal(id.spiffeId, undefined);
    assert.equal(id.fingerprint256, createHash('sha256').update(cert.raw).digest('hex'));
    assert.equal(id.notAfterSec, Math.floor(Date.parse(cert.validTo) / 1000));
    assert.ok(Object.isFrozen(id) && Object.isFrozen(id.dns));
  });

  test('the one spiffe:// URI SAN is the SPIFFE ID, and the principal\'s subject', () => {
    const result = certificateIdentity(x509({
      san: 'URI:https://other.example/x,URI:spiffe://prod.acme/ns/pay/sa/api,DNS:api',
    }));
    assert.ok(result.ok);
    assert.equal(result.certificate.spiffeId, 'spiffe://prod.acme/ns/pay/sa/api');
    const principal = principalFromCertificate(result.certificate);
    assert.equal(principal.kind, 'mtls');
    assert.equal(principal.subject, 'spiffe://prod.acme/ns/pay/sa/api');
    assert.equal(principal.issuer, 'CN=portcullis-test-ca');
    assert.equal(principal.expiresAtSec, result.certificate.notAfterSec);
    assert.equal(principal.certificate, result.certificate);
  });

  test('without a SPIFFE ID the principal\'s subject is the subject DN', () => {
    const result = certificateIdentity(x509({ subject: ['O=Acme', 'CN=batch'] }));
    assert.ok(result.ok);
    assert.equal(principalFromCertificate(result.certificate).subject, 'CN=batch,O=Acme');
  });

  const kRefused: ReadonlyArray<readonly [string, LeafOptions, string]> = [
    ['two SPIFFE IDs: which one is the caller cannot be decided (X.509-SVID allows one)',
      { san: 'URI:spiffe://a.example/one,URI:spiffe://a.example/two' },
      'IAM_AUTHN_CERTIFICATE_AMBIGUOUS'],
    ['the scheme is compared without case, so SPIFFE:// counts as a second ID',
      { san: 'URI:spiffe://a.example/one,URI:SPIFFE://a.example/two' },
      'IAM_AUTHN_CERTIFICATE_AMBIGUOUS'],
    ['an upper-case trust domain is not a SPIFFE ID (spec section 2.1)',
      { san: 'URI:spiffe://Prod.example/x' }, 'IAM_AUTHN_CERTIFICATE_INVALID'],
    ['a dot segment would make two spellings of one ID (spec section 2.2)',
      { san: 'URI:spiffe://prod.example/a/../b' }, 'IAM_AUTHN_CERTIFICATE_INVALID'],
    ['a trailing slash is not allowed in a SPIFFE ID',
      { san: 'URI:spiffe://prod.example/a/' }, 'IAM_AUTHN_CERTIFICATE_INVALID'],
    ['a SPIFFE ID carries no port, query or percent-escape',
      { san: 'URI:spiffe://prod.example:8443/a' }, 'IAM_AUTHN_CERTIFICATE_INVALID'],
    ['CR LF in a URI SAN would split an identity header (Envoy GHSA-w5w5-487h-qv8q)',
      { san: derSan(generalName(6, 'spiffe://td.example/a\r\nx-portcullis-subject: admin')) },
      'IAM_AUTHN_CERTIFICATE_INVALID'],
    ['NUL in a DNS SAN is refused, not cut short',
      { san: derSan(generalName(2, 'api.example\u0000.evil')) }, 'IAM_AUTHN_CERTIFICATE_INVALID'],
    ['a bare LF in an email SAN is refused', { san: derSan(generalName(1, 'a@b\nc')) },
      'IAM_AUTHN_CERTIFICATE_INVALID'],
    ['a space inside a DNS name is no host name', { san: derSan(generalName(2, 'a b.example')) },
      'IAM_AUTHN_CERTIFICATE_INVALID'],
    ['CR LF in the subject CN is refused (node shows it escaped, the proxy does not pass it)',
      { subject: ['CN=svc\\r\\nx-evil: 1'] }, 'IAM_AUTHN_CERTIFICATE_INVALID'],
  ];
  for (const [why, opts, code] of kRefused) {
    test(why, () => assert.equal(codeOf(opts), code));
  }

  test('a comma-bearing URI (node writes it quoted) is read back exactly', () => {
    const result = certificateIdentity(x509({
      san: derSan(generalName(6, 'https://a.example/x,y'), generalName(2, 'b.example')),
    }));
    assert.ok(result.ok);
    assert.deepEqual(result.certificate.uris, ['https://a.example/x,y']);
    assert.deepEqual(result.certificate.dns, ['b.example']);
  });

  test('non-ASCII and multi-valued RDNs become escaped RFC 4514 text (plain ASCII)', () => {
    const result = certificateIdentity(x509({ subject: ['O=Caf\u00e9', '1.OU=pay', '1.CN=svc'] }));
    assert.ok(result.ok);
    assert.equal(result.certificate.subject, 'CN=svc,OU=pay,O=Caf\\C3\\A9');
  });

  test('checkedIdentity refuses a malformed fingerprint (names from a header are checked too)',
    () => {
      const names = { subject: 'CN=a', issuer: '', dns: [], uris: [], emails: [],
        fingerprint256: 'AB:CD', notAfterSec: 1, isForwarded: false };
      assert.equal(checkedIdentity(names).ok, false);
    });

  test('a token principal carries the connection certificate alongside', () => {
    const result = certificateIdentity(x509({ san: 'URI:spiffe://td.example/w' }));
    assert.ok(result.ok);
    const token = principalFromClaims('https://idp.example', { sub: 'alice', exp: 2e9 }, 'k1');
    const both = withCertificate(token, result.certificate);
    assert.equal(both.kind, 'jwt');
    assert.equal(both.subject, 'alice');
    assert.equal(both.certificate?.spiffeId, 'spiffe://td.example/w');
    assert.ok(Object.isFrozen(both));
    assert.equal(withCertificate(token, undefined), token);
  });
});
