/**
 * Strict e-mail parsing for identity decisions (threats.md, "Claim parsing tricks"): one plain
 * form is accepted, everything ambiguous is refused, and domains compare as lower-case ASCII.
 * Each case is one sentence saying why.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  parseEmailAddress, principalFromClaims, verifiedEmail,
} from '../../src/authn/index.js';

const kAccepted: ReadonlyArray<readonly [string, string, string]> = [
  ['alice@example.com', 'example.com', 'a plain address'],
  ['Alice.Smith+tag@Example.COM', 'example.com', 'the domain is lower-cased; the local part kept'],
  ["o'brien!#$%&*=?^_`{|}~-x@example.com", 'example.com', 'every atext character is allowed'],
  ['ines@b\u00fccher.example', 'xn--bcher-kva.example', 'a Unicode domain becomes its xn-- form'],
  ['ines@xn--bcher-kva.example', 'xn--bcher-kva.example', 'the xn-- form is the same domain'],
  ['a@sub.example.co.uk', 'sub.example.co.uk', 'several labels'],
];

const kRefused: ReadonlyArray<readonly [string, string]> = [
  ['mallory@evil.test@example.com', 'two @: which domain is meant depends on the parser'],
  ['"mallory@evil.test"@example.com', 'quoted local parts are not handled, so refused'],
  ['mallory(comment)@example.com', 'comments are refused'],
  ['mallory@example.com(comment)', 'a comment after the domain is refused'],
  ['mall\\@ory@example.com', 'backslash escapes are refused'],
  ['mal lory@example.com', 'spaces are refused'],
  ['.alice@example.com', 'a leading dot in the local part'],
  ['alice.@example.com', 'a trailing dot in the local part'],
  ['al..ice@example.com', 'two dots in a row'],
  ['alice@example.com.', 'a trailing dot in the domain names a different DNS name'],
  ['alice@[127.0.0.1]', 'IP literals are not domains'],
  ['alice@127.0.0.1', 'an all-numeric last label is an IPv4 address in disguise'],
  ['alice@localhost', 'a single-label domain'],
  ['alice@-example.com', 'a label cannot start with a hyphen'],
  ['alice@exa_mple.com', 'underscores are not DNS host characters'],
  ['alice\uff20example.com', 'a full-width @ is no @ at all'],
  ['al\u00efce@example.com', 'non-ASCII local parts (SMTPUTF8) are refused'],
  ['alice@', 'no domain'],
  ['@example.com', 'no local part'],
  ['alice', 'no @'],
  [`${'a'.repeat(65)}@example.com`, 'local parts longer than 64 characters'],
  [`a@${'b'.repeat(250)}.com`, 'addresses longer than 254 characters'],
  ['alice@example.com\r\n', 'CR LF after the address'],
];

describe('authn/email-address', () => {
  for (const [text, domain, why] of kAccepted) {
    test(`authn/email-address accepts ${JSON.stringify(text)}: ${why}`, () => {
      const parsed = parseEmailAddress(text);
      assert.equal(parsed?.domain, domain);
      assert.equal(parsed?.address, `${text.slice(0, text.indexOf('@'))}@${domain}`);
    });
  }
  for (const [text, why] of kRefused) {
    test(`authn/email-address refuses ${JSON.stringify(text.slice(0, 60))}: ${why}`, () => {
      assert.equal(parseEmailAddress(text), undefined);
    });
  }

  const kVerified: ReadonlyArray<readonly [unknown, boolean, string]> = [
    [true, true, 'email_verified: true'],
    ['true', true, 'the string "true" some providers send'],
    [false, false, 'email_verified: false'],
    [undefined, false, 'absent: not known to be verified'],
    ['yes', false, 'any other value is not true'],
    [1, false, 'a number is not true'],
  ];
  for (const [verified, isVerified, why] of kVerified) {
    test(`authn/email-address verifiedEmail with ${why}`, () => {
      const claims = { email: 'alice@example.com', email_verified: verified };
      assert.equal(verifiedEmail(claims)?.address, isVerified ? 'alice@example.com' : undefined);
    });
  }

  test('authn/email-address principals carry email and email_domain only when verified and strict', () => {
    const attributes = (claims: Record<string, unknown>) =>
      principalFromClaims('https://idp.test', { sub: 'u', ...claims }, undefined).attributes;
    assert.equal(attributes({ email: 'alice@Example.com', email_verified: true }).email_domain,
      'example.com');
    assert.equal(attributes({ email: 'alice@Example.com', email_verified: true }).email,
      'alice@example.com');
    const multi = attributes({ email: 'm@evil.test@example.com', email_verified: true });
    assert.equal(multi.email, undefined, 'the multi-@ address is not an attribute');
    assert.equal(multi.email_domain, undefined);
    assert.equal(attributes({ email: 'bob@example.com', email_verified: false }).email, undefined);
    assert.equal(attributes({ email: 'bob@example.com' }).email_domain, undefined);
    assert.equal(attributes({ email_domain: 'example.com' }).email_domain, undefined,
      'a token cannot bring its own email_domain');
    assert.equal(attributes({ email: 'a@b\u00fccher.example', email_verified: 'true' })
      .email_domain, 'xn--bcher-kva.example');
  });
});
