import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type HostPort, parseHost } from '../../src/routing/index.js';

interface Case {
  readonly why: string;
  readonly value: string;
  readonly expected: HostPort | undefined;
}

const kCases: readonly Case[] = [
  // Names.
  {
    why: 'a plain name parses without a port',
    value: 'example.com',
    expected: { host: 'example.com', port: undefined },
  },
  {
    why: 'names are lower-cased so no check can be case-sensitive',
    value: 'Example.COM',
    expected: { host: 'example.com', port: undefined },
  },
  {
    why: 'one trailing dot is dropped',
    value: 'example.com.',
    expected: { host: 'example.com', port: undefined },
  },
  { why: 'two trailing dots leave an empty label', value: 'example.com..', expected: undefined },
  { why: 'a leading dot is an empty label', value: '.example.com', expected: undefined },
  { why: 'an inner empty label is refused', value: 'a..example.com', expected: undefined },
  {
    why: 'a single label is a valid name',
    value: 'localhost',
    expected: { host: 'localhost', port: undefined },
  },
  {
    why: 'punycode names are plain ASCII',
    value: 'xn--bcher-kva.example',
    expected: { host: 'xn--bcher-kva.example', port: undefined },
  },
  {
    why: 'a 63-character label is the longest allowed',
    value: 'a'.repeat(63) + '.com',
    expected: { host: 'a'.repeat(63) + '.com', port: undefined },
  },
  { why: 'a 64-character label is refused', value: 'a'.repeat(64) + '.com', expected: undefined },
  {
    why: 'underscores are not allowed in host names',
    value: 'a_b.example.com',
    expected: undefined,
  },
  { why: 'raw non-ASCII is refused', value: 'b\u00fccher.example', expected: undefined },
  { why: 'percent-escapes are refused', value: 'ex%41mple.com', expected: undefined },
  { why: 'userinfo is refused', value: 'user@example.com', expected: undefined },
  { why: 'inner spaces are refused', value: 'exa mple.com', expected: undefined },
  {
    why: 'trailing spaces are refused (the header check trims OWS first)',
    value: 'example.com ',
    expected: undefined,
  },
  { why: 'an empty value is refused', value: '', expected: undefined },
  { why: 'a lone dot is refused', value: '.', expected: undefined },

  // Ports.
  {
    why: 'a port is parsed as a number',
    value: 'example.com:8080',
    expected: { host: 'example.com', port: 8080 },
  },
  {
    why: 'leading zeros in a five-digit port are normalized away',
    value: 'example.com:00080',
    expected: { host: 'example.com', port: 80 },
  },
  {
    why: 'more than five port digits are refused',
    value: 'example.com:000080',
    expected: undefined,
  },
  { why: 'port 0 is refused', value: 'example.com:0', expected: undefined },
  {
    why: 'port 65535 is the highest accepted',
    value: 'example.com:65535',
    expected: { host: 'example.com', port: 65535 },
  },
  { why: 'port 65536 is refused', value: 'example.com:65536', expected: undefined },
  { why: 'a signed port is refused', value: 'example.com:+80', expected: undefined },
  { why: 'an empty port is refused', value: 'example.com:', expected: undefined },
  { why: 'a port with letters is refused', value: 'example.com:80a', expected: undefined },
  { why: 'two colons are refused for names', value: 'example.com:80:81', expected: undefined },

  // IPv4 and numeric look-alikes.
  {
    why: 'a dotted quad is an IPv4 host',
    value: '127.0.0.1',
    expected: { host: '127.0.0.1', port: undefined },
  },
  {
    why: 'a dotted quad with a port parses',
    value: '10.0.0.1:443',
    expected: { host: '10.0.0.1', port: 443 },
  },
  {
    why: 'a short IPv4 form is refused since URL parsers expand it',
    value: '127.1',
    expected: undefined,
  },
  { why: 'an octal octet is refused', value: '0177.0.0.1', expected: undefined },
  { why: 'a hex octet is refused', value: '0x7f.0.0.1', expected: undefined },
  { why: 'an octet over 255 is refused', value: '256.0.0.1', expected: undefined },
  {
    why: 'a hex last label is refused since URL parsers read it as a number',
    value: 'a.0x7f',
    expected: undefined,
  },
  {
    why: 'a numeric last label that is not a quad is refused',
    value: 'example.123',
    expected: undefined,
  },

  // IPv6.
  {
    why: 'a bracketed IPv6 loopback parses with brackets',
    value: '[::1]',
    expected: { host: '[::1]', port: undefined },
  },
  {
    why: 'a bracketed IPv6 with a port parses',
    value: '[::1]:8443',
    expected: { host: '[::1]', port: 8443 },
  },
  {
    why: 'IPv6 hex is lower-cased',
    value: '[2001:DB8::A]',
    expected: { host: '[2001:db8::a]', port: undefined },
  },
  {
    why: 'a full eight-group IPv6 parses',
    value: '[1:2:3:4:5:6:7:8]',
    expected: { host: '[1:2:3:4:5:6:7:8]', port: undefined },
  },
  {
    why: 'an IPv4-mapped IPv6 parses',
    value: '[::ffff:192.0.2.1]',
    expected: { host: '[::ffff:192.0.2.1]', port: undefined },
  },
  { why: 'nine groups are refused', value: '[1:2:3:4:5:6:7:8:9]', expected: undefined },
  { why: 'two :: are refused', value: '[1::2::3]', expected: undefined },
  { why: 'a zone id is refused', value: '[fe80::1%25eth0]', expected: undefined },
  { why: 'an unclosed bracket is refused', value: '[::1', expected: undefined },
  { why: 'an unbracketed IPv6 is refused', value: '::1', expected: undefined },
  { why: 'text after the closing bracket is refused', value: '[::1]x', expected: undefined },
  { why: 'empty brackets are refused', value: '[]', expected: undefined },
];

describe('routing/host parseHost', () => {
  for (const c of kCases) {
    test(`${JSON.stringify(c.value).slice(0, 40)}: ${c.why}`, () => {
      assert.deepEqual(parseHost(c.value), c.expected);
    });
  }
});
