/**
 * The `listeners.decision` block: which ingress asks and from where. Each refusal names the
 * field; there is no default for the flavor or the trusted ingresses, since either would let
 * the wrong headers, or the wrong peers, describe requests.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { ConfigLoadError, loadConfigText } from '../../src/config/index.js';

const kService = `services:
  - name: web
    access: public
    upstream: { addresses: ['127.0.0.1:3000'] }
`;

const withDecision = (block: string): string => `listeners:\n  decision: ${block}\n${kService}`;

async function fields(yaml: string): Promise<string[]> {
  try {
    await loadConfigText(yaml, 'd.yaml', tmpdir());
    return [];
  } catch (err) {
    if (!(err instanceof ConfigLoadError)) throw err;
    return err.diagnostics.map((d) => d.field);
  }
}

describe('config/decision', () => {
  test('a decision block loads with its defaults; without one there is no listener', async () => {
    const config = await loadConfigText(
      withDecision("{ flavor: nginx, trustedIngress: ['10.0.0.0/8'] }"), 'd.yaml', tmpdir());
    assert.deepEqual(config.listeners.decision, {
      host: '127.0.0.1', port: 9191, flavor: 'nginx', trustedIngress: ['10.0.0.0/8'],
    });
    const without = await loadConfigText(kService, 'd.yaml', tmpdir());
    assert.equal(without.listeners.decision, undefined);
  });

  test('envoy takes a path prefix', async () => {
    const config = await loadConfigText(
      withDecision("{ flavor: envoy, trustedIngress: ['::1'], pathPrefix: /authz }"), 'd.yaml',
      tmpdir());
    assert.equal(config.listeners.decision?.pathPrefix, '/authz');
  });

  const kBad: ReadonlyArray<{ why: string; block: string; field: string }> = [
    { why: 'without a flavor nothing says which headers describe the original request',
      block: "{ trustedIngress: ['10.0.0.0/8'] }", field: 'listeners.decision.flavor' },
    { why: 'an unknown ingress has no header rules',
      block: "{ flavor: haproxy, trustedIngress: ['10.0.0.0/8'] }",
      field: 'listeners.decision.flavor' },
    { why: 'without trusted ingresses any client could describe its own request',
      block: '{ flavor: nginx }', field: 'listeners.decision.trustedIngress' },
    { why: 'an empty list of ingresses would refuse every check: a mistake, said at load',
      block: '{ flavor: nginx, trustedIngress: [] }', field: 'listeners.decision.trustedIngress' },
    { why: 'a trusted ingress is an address or CIDR, not a name',
      block: "{ flavor: nginx, trustedIngress: ['ingress.internal'] }",
      field: 'listeners.decision.trustedIngress[0]' },
    { why: 'only Envoy puts a prefix in front of the original path',
      block: "{ flavor: traefik, trustedIngress: ['10.0.0.1'], pathPrefix: /authz }",
      field: 'listeners.decision.pathPrefix' },
    { why: 'a prefix of "/" would make every Envoy check path start with "//"',
      block: "{ flavor: envoy, trustedIngress: ['10.0.0.1'], pathPrefix: / }",
      field: 'listeners.decision.pathPrefix' },
    { why: 'a prefix follows the service pathPrefix rules (no trailing slash)',
      block: "{ flavor: envoy, trustedIngress: ['10.0.0.1'], pathPrefix: /authz/ }",
      field: 'listeners.decision.pathPrefix' },
    { why: 'a misspelt key is an error, not a silent default',
      block: "{ flavor: nginx, trustedIngres: ['10.0.0.1'] }",
      field: 'listeners.decision.trustedIngres' },
  ];
  for (const { why, block, field } of kBad) {
    test(why, async () => {
      assert.ok((await fields(withDecision(block))).includes(field),
        `${field} in ${JSON.stringify(await fields(withDecision(block)))}`);
    });
  }

  test('the decision listener may not share the proxy listener\'s port', async () => {
    const yaml = `listeners:
  proxy: { port: 9191 }
  decision: { flavor: nginx, trustedIngress: ['10.0.0.1'] }
${kService}`;
    assert.deepEqual(await fields(yaml), ['listeners.decision.port']);
  });
});
