/**
 * A loopback HTTP server for JWKS tests: each path answers from a mutable `Route` (status, body,
 * headers, delay), and every request is counted per path, so tests can change what the "issuer"
 * serves mid-test and observe how often the code under test fetched.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';

/** What one path answers. `body` objects are sent as JSON; strings and Buffers as they are. */
export interface Route {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering, in ms. */
  delayMs?: number;
}

/** A running test server; `close()` ends it and every open connection. */
export interface JwksTestServer {
  readonly baseUrl: string;
  readonly routes: Map<string, Route>;
  hits(path: string): number;
  close(): Promise<void>;
}

/** Start a server on 127.0.0.1 with an ephemeral port. */
export async function startJwksServer(): Promise<JwksTestServer> {
  const routes = new Map<string, Route>();
  const counts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const route = routes.get(path) ?? { status: 404, body: { error: 'not found' } };
    const send = (): void => {
      const raw = route.body;
      const payload = typeof raw === 'string' || Buffer.isBuffer(raw) ? raw : JSON.stringify(raw);
      res.writeHead(route.status ?? 200, { 'content-type': 'application/json', ...route.headers });
      res.end(payload);
    };
    if (route.delayMs === undefined) return send();
    const timer = setTimeout(() => {
      timers.delete(timer);
      send();
    }, route.delayMs);
    timers.add(timer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    routes,
    hits: (path) => counts.get(path) ?? 0,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A fresh public RSA signing JWK with a random kid (and the private JWK, for providers). */
export function makeRsaKey(kid: string = randomUUID()): { publicJwk: JWK; privateJwk: JWK } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const meta = { kid, use: 'sig', alg: 'RS256' };
  const publicJwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), ...meta };
  const privateJwk = { ...(privateKey.export({ format: 'jwk' }) as JWK), ...meta };
  return { publicJwk, privateJwk };
}

/** A fresh public EC P-256 signing JWK. */
export function makeEcKey(kid: string = randomUUID()): JWK {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...(publicKey.export({ format: 'jwk' }) as JWK), kid };
}

/** Poll `check` every 10 ms until it is true or `timeoutMs` passes; resolves whether it held. */
export async function waitFor(check: () => boolean, timeoutMs = 3_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return check();
}

/** Resolve after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
