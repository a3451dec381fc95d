/**
 * The fastify peer of the authn bench, run as its own process:
 *
 *   node dist/bench/e2e/fastify-jwt-server.js PORT UPSTREAM_PORT ALG PUBLIC_KEY_PEM [SCOPE PATH]
 *
 * With SCOPE and PATH (the suite's authz scenarios), a verified request is also refused with
 * 403 unless its `scope` claim holds SCOPE and its URL is PATH.
 *
 * Every request must carry a bearer JWT that @fastify/jwt verifies (`await request.jwtVerify()`
 * in an onRequest hook: the verifier is built once and reused) with the algorithm, issuer and
 * audience pinned, `exp` required; valid ones are forwarded by @fastify/http-proxy to
 * 127.0.0.1:UPSTREAM_PORT. fast-jwt's cache stays off (its default), as HAProxy caches nothing.
 * Logger off. Prints `listening` once it accepts connections.
 */
import { readFileSync } from 'node:fs';

import fastifyJwt from '@fastify/jwt';
import fastifyHttpProxy from '@fastify/http-proxy';
import Fastify from 'fastify';

import { kBenchAudience, kBenchIssuer } from '../scenarios.js';

const [port, upstreamPort, alg, publicKeyPem, scope, path] = process.argv.slice(2);
if (port === undefined || upstreamPort === undefined || alg === undefined
  || publicKeyPem === undefined || (scope === undefined) !== (path === undefined)) {
  process.stderr.write('usage: fastify-jwt-server PORT UPSTREAM_PORT ALG PUBLIC_KEY_PEM '
    + '[SCOPE PATH]\n');
  process.exit(2);
}

const app = Fastify({ logger: false });
await app.register(fastifyJwt, {
  secret: { public: readFileSync(publicKeyPem, 'utf8') },
  verify: {
    algorithms: [alg as 'RS256'],
    allowedIss: kBenchIssuer,
    allowedAud: kBenchAudience,
    requiredClaims: ['exp'],
  },
});
app.addHook('onRequest', async (request, reply) => {
  let claims: { scope?: unknown };
  try {
    claims = await request.jwtVerify();
  } catch {
    return reply.code(401).send({ error: 'unauthorized' });
  }
  if (scope === undefined) return undefined;
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
  if (!scopes.includes(scope) || request.url !== path) {
    return reply.code(403).send({ error: 'forbidden' });
  }
  return undefined;
});
await app.register(fastifyHttpProxy, { upstream: `http://127.0.0.1:${upstreamPort}` });
await app.listen({ host: '127.0.0.1', port: Number(port) });
process.stdout.write('listening\n');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app.close().finally(() => process.exit(0));
  });
}
