/**
 * A service's identity block: renamed identity headers and attribute headers. A name the proxy
 * would own must never be one that frames, routes or authenticates the request.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { ConfigLoadError, loadConfigText } from '../../src/config/index.js';

/** A service whose identity block is `identity` (written on line 4). */
function service(identity: string): string {
  return `services:
  - name: orders
    access: authenticated
    identity: ${identity}
    upstream: { addresses: ['127.0.0.1:1'] }
`;
}

async function fields(identity: string): Promise<string[]> {
  const error = await loadConfigText(service(identity), 'c.yaml', tmpdir()).then(
    () => assert.fail('expected a ConfigLoadError'), (err: unknown) => err);
  assert.ok(error instanceof ConfigLoadError);
  assert.ok(error.diagnostics.every((d) => d.line === 4), JSON.stringify(error.diagnostics));
  return error.diagnostics.map((d) => d.field);
}

describe('config/identity-schema', () => {
  test('renames and attribute headers are kept as written', async () => {
    const config = await loadConfigText(service(
      '{ headerNames: { subject: x-user-id }, attributes: { tenant: x-tenant-id } }'),
    'c.yaml', tmpdir());
    assert.deepEqual(config.services[0]?.identity.headerNames, { subject: 'x-user-id' });
    assert.deepEqual(config.services[0]?.identity.attributes, { tenant: 'x-tenant-id' });
  });

  const kRefused: ReadonlyArray<readonly [string, string, string]> = [
    ['authorization would hide the credential the proxy checked',
      '{ headerNames: { subject: authorization } }', 'services[0].identity.headerNames.subject'],
    ['host routes the request', '{ attributes: { tenant: host } }',
      'services[0].identity.attributes.tenant'],
    ['content-length frames the request', '{ headerNames: { groups: content-length } }',
      'services[0].identity.headerNames.groups'],
    ['upper case would not match the lower-case names the proxy compares',
      '{ headerNames: { subject: X-User } }', 'services[0].identity.headerNames.subject'],
    ['a space is not a header name', '{ headerNames: { subject: "x user" } }',
      'services[0].identity.headerNames.subject'],
    ['two fields cannot share one header', '{ headerNames: { subject: x-u }, attributes: ' +
      '{ tenant: x-u } }', 'services[0].identity.attributes.tenant'],
    ['an unknown field is a typo, not a new header', '{ headerNames: { email: x-email } }',
      'services[0].identity.headerNames.email'],
    ['an attribute name must be one identifier, as policy writes it',
      '{ attributes: { "a b": x-ab } }', 'services[0].identity.attributes.a b'],
  ];
  for (const [why, identity, field] of kRefused) {
    test(`refused: ${why}`, async () => {
      assert.deepEqual(await fields(identity), [field], why);
    });
  }
});
