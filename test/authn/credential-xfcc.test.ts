/**
 * Envoy's X-Forwarded-Client-Cert read strictly (src/authn/credential-xfcc.ts). threats.md:
 * "Header injection from certificate / claim data (CRLF)" (names from the header pass the same
 * checks as a certificate's), "Spoofed identity or forwarded headers" (nothing loosely parsed:
 * one odd byte refuses the whole header).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ForwardedCertificates, forwardedCertificate } from '../../src/authn/index.js';

const kHash = '468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688';
const kEnvoy = `By=spiffe://mesh.acme/ns/edge/sa/envoy;Hash=${kHash};` +
  'Subject="CN=Test Client,OU=Lyft,L=San Francisco,ST=CA,C=US";' +
  'URI=spiffe://mesh.acme/ns/pay/sa/api;DNS=api.pay.internal;DNS=api';

function codeOf(header: string): string | undefined {
  const result = forwardedCertificate(header);
  return result.ok ? undefined : result.code;
}

describe('authn/credential-xfcc', () => {
  test('an Envoy element becomes a forwarded identity with its SPIFFE ID', () => {
    const result = forwardedCertificate(kEnvoy);
    assert.ok(result.ok);
    const id = result.certificate;
    assert.equal(id.fingerprint256, kHash);
    assert.equal(id.subject, 'CN=Test Client,OU=Lyft,L=San Francisco,ST=CA,C=US');
    assert.equal(id.issuer, '');
    assert.deepEqual(id.uris, ['spiffe://mesh.acme/ns/pay/sa/api']);
    assert.deepEqual(id.dns, ['api.pay.internal', 'api']);
    assert.equal(id.spiffeId, 'spiffe://mesh.acme/ns/pay/sa/api');
    assert.equal(id.notAfterSec, undefined);
    assert.equal(id.isForwarded, true);
  });

  test('the last element counts: it is the one the closest proxy added', () => {
    const first = `Hash=${'a'.repeat(64)};URI=spiffe://mesh.acme/ns/outside/sa/client`;
    const result = forwardedCertificate(`${first},${kEnvoy}`);
    assert.ok(result.ok);
    assert.equal(result.certificate.fingerprint256, kHash);
    assert.equal(result.certificate.spiffeId, 'spiffe://mesh.acme/ns/pay/sa/api');
  });

  test('header lines joined with ", " read the same as one line', () => {
    const result = forwardedCertificate(`Hash=${'b'.repeat(64)} ,  ${kEnvoy}`);
    assert.ok(result.ok);
    assert.equal(result.certificate.fingerprint256, kHash);
  });

  test('quoted values keep commas, semicolons, equals signs and escaped quotes', () => {
    const result = forwardedCertificate(`Hash=${kHash};Subject="CN=a\\"b\\\\c,O=x;y=z";URI=`);
    assert.ok(result.ok);
    assert.equal(result.certificate.subject, 'CN=a"b\\c,O=x;y=z');
    assert.deepEqual(result.certificate.uris, [], 'an empty URI means none');
  });

  test('an upper-case Hash is read as lower-case hex; Cert and Chain are accepted, unused',
    () => {
      const result = forwardedCertificate(`Hash=${kHash.toUpperCase()};Cert="-----BEGIN%20CERT";` +
        'Chain="x"');
      assert.ok(result.ok);
      assert.equal(result.certificate.fingerprint256, kHash);
    });

  const kRefused: ReadonlyArray<readonly [string, string, string]> = [
    ['an empty header holds no element', '', 'IAM_AUTHN_FORWARDED_CERT_INVALID'],
    ['Hash is what identifies the certificate: required', 'Subject="CN=a";URI=spiffe://a/b',
      'IAM_AUTHN_FORWARDED_CERT_INVALID'],
    ['a Hash that is not 64 hex digits', 'Hash=abc', 'IAM_AUTHN_FORWARDED_CERT_INVALID'],
    ['two Hash values in one element', `Hash=${kHash};Hash=${kHash}`,
      'IAM_AUTHN_FORWARDED_CERT_INVALID'],
    ['two Subjects in one element', `Hash=${kHash};Subject="a";Subject="b"`,
      'IAM_AUTHN_FORWARDED_CERT_INVALID'],
    ['an unknown key (no guessing what it means)', `Hash=${kHash};Role=admin`,
      'IAM_AUTHN_FORWARDED_CERT_INVALID'],
    ['keys are case-sensitive as Envoy writes them', `hash=${kHash}`,
      'IAM_AUTHN_FORWARDED_CERT_INVALID'],
    ['an unterminated quoted value', `Hash=${kHash};Subject="CN=a`,
      'IAM_AUTHN_FORWARDED_CERT_INVALID'],
    ['a backslash escape other than \\" or \\\\', `Hash=${kHash};Subject="a\\nb"`,
      'IAM_AUTHN_FORWARDED_CERT_INVALID'],
    ['a raw CR inside a quoted value', `Hash=${kHash};Subject="CN=a\rX-Evil: 1"`,
      'IAM_AUTHN_FORWARDED_CERT_INVALID'],
    ['a space in an unquoted value', `Hash=${kHash};URI=spiffe://a/b c`,
      'IAM_AUTHN_FORWARDED_CERT_INVALID'],
    ['a trailing semicolon leaves a pair unfinished', `Hash=${kHash};`,
      'IAM_AUTHN_FORWARDED_CERT_INVALID'],
    ['an empty element between commas', `Hash=${kHash},,Hash=${kHash}`,
      'IAM_AUTHN_FORWARDED_CERT_INVALID'],
    ['more than 16 hops', Array.from({ length: 17 }, () => `Hash=${kHash}`).join(','),
      'IAM_AUTHN_FORWARDED_CERT_INVALID'],
    ['a malformed earlier element refuses the header too', `Hash=x"y,${kEnvoy}`,
      'IAM_AUTHN_FORWARDED_CERT_INVALID'],
    ['two SPIFFE IDs in the element are ambiguous',
      `Hash=${kHash};URI=spiffe://a.acme/one;URI=spiffe://a.acme/two`,
      'IAM_AUTHN_CERTIFICATE_AMBIGUOUS'],
    ['a non-ASCII subject is refused like a certificate name', `Hash=${kHash};Subject="CN=\u00e9"`,
      'IAM_AUTHN_CERTIFICATE_INVALID'],
    ['a SPIFFE URI that breaks the standard', `Hash=${kHash};URI=spiffe://A.acme/x`,
      'IAM_AUTHN_CERTIFICATE_INVALID'],
  ];
  for (const [why, header, code] of kRefused) {
    test(why, () => assert.equal(codeOf(header), code));
  }

  test('the reader builds one mtls principal per distinct header and reuses it', () => {
    const reader = new ForwardedCertificates();
    const first = reader.read(kEnvoy);
    assert.ok(first.ok);
    assert.equal(first.principal.kind, 'mtls');
    assert.equal(first.principal.subject, 'spiffe://mesh.acme/ns/pay/sa/api');
    assert.equal(first.principal.issuer, undefined);
    assert.equal(reader.read(kEnvoy), first);
    assert.equal(reader.read('Hash=1').ok, false);
  });
});
