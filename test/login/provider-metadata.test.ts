/**
 * The login issuer's discovery document: what the proxy insists on before it starts, and the
 * start-up refusal (IAM_LOGIN_DISCOVERY_FAILED) when a real server offers less.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { loadConfigText } from '../../src/config/index.js';
import { PortcullisError } from '../../src/errors/index.js';
import { parseProviderMetadata } from '../../src/login/provider-metadata.js';
import { startPortcullis } from '../../src/main.js';
import { silentLogger } from '../../src/telemetry/index.js';
import { createTestPki } from '../support/test-pki.js';

const kIssuer = 'https://idp.example';
const kGood = {
  issuer: kIssuer, authorization_endpoint: `${kIssuer}/auth`, token_endpoint: `${kIssuer}/token`,
  jwks_uri: `${kIssuer}/jwks`, response_types_supported: ['code'],
  code_challenge_methods_supported: ['S256'],
  token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
  end_session_endpoint: `${kIssuer}/session/end`,
  authorization_response_iss_parameter_supported: true,
};

describe('login/provider-metadata', () => {
  test('login/provider-metadata a complete document gives the endpoints and the iss flag', () => {
    const m = parseProviderMetadata(kIssuer, kGood);
    assert.equal(m.authorizationEndpoint, `${kIssuer}/auth`);
    assert.equal(m.tokenEndpoint, `${kIssuer}/token`);
    assert.equal(m.endSessionEndpoint, `${kIssuer}/session/end`);
    assert.equal(m.sendsIssuerInResponse, true);
  });

  const kRefused: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
    ['another issuer speaks in the document (Discovery 4.3)', { issuer: 'https://evil.example' }],
    ['no authorization endpoint', { authorization_endpoint: undefined }],
    ['no token endpoint', { token_endpoint: undefined }],
    ['an endpoint with another scheme', { token_endpoint: 'ftp://idp.example/token' }],
    ['an endpoint with user info', { authorization_endpoint: 'https://u:p@idp.example/auth' }],
    ['the code response type is not offered', { response_types_supported: ['id_token'] }],
    ['PKCE without S256 (plain only)', { code_challenge_methods_supported: ['plain'] }],
    ['no client_secret_basic', { token_endpoint_auth_methods_supported: ['private_key_jwt'] }],
  ];
  for (const [why, change] of kRefused) {
    test(`login/provider-metadata refuses: ${why}`, () => {
      assert.throws(() => parseProviderMetadata(kIssuer, { ...kGood, ...change }),
        (err: unknown) => err instanceof PortcullisError && err.code === 'IAM_LOGIN_DISCOVERY_FAILED');
    });
  }

  test('login/provider-metadata start-up: a real issuer without an authorization endpoint stops the proxy', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    let issuer = '';
    const server: Server = createServer((req, res) => {
      const doc = req.url === '/jwks' ? { keys: [jwk] }
        : { issuer, jwks_uri: `${issuer}/jwks`, token_endpoint: `${issuer}/token`,
          response_types_supported: ['code'] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const leaf = createTestPki().leaf('p', '127.0.0.1', 'IP:127.0.0.1', 'serverAuth');
    try {
      const config = await loadConfigText(`listeners:
  proxy: { port: 0, tls: { certFile: '${leaf.cert}', keyFile: '${leaf.key}' } }
  admin: { port: 0 }
audit: { sink: none }
authn: { issuers: [{ issuer: '${issuer}', discovery: true }] }
login: { issuer: '${issuer}', clientId: web, clientSecret: { env: S } }
services: [{ name: app, access: authenticated, login: true, upstream: { addresses: ['127.0.0.1:1'] } }]
`, 'start.yaml', tmpdir(), { S: 'secret' });
      await assert.rejects(startPortcullis(config, silentLogger()),
        (err: unknown) => err instanceof PortcullisError && err.code === 'IAM_LOGIN_DISCOVERY_FAILED'
          && /authorization_endpoint/.test(err.message));
    } finally {
      server.close();
    }
  });
});
