/**
 * The main-thread cost browser login adds to a request, measured on the real `BrowserLogin`:
 *
 * - `login/session-of`: finding the session a request's cookie names (cookie header scan, id
 *   shape check, in-memory store lookup with its idle and absolute checks), with the session
 *   cookie among four others, as browsers send them;
 * - `login/upstream-headers`: taking the proxy's cookies out of the headers forwarded, with the
 *   session cookie present (a copy is made) and absent (the headers are passed on as they are).
 *
 * Run after a build with `node dist/bench/micro/login/session-lookup.bench.js`. Each sample is
 * the mean of a batch of calls (a single call is below the timer's resolution). The context is
 * built from real parts; the ID token verifier, the IdP metadata and the logger are not used by
 * the measured calls and are given as inert values.
 */
import { cpus } from 'node:os';
import { Bench } from 'tinybench';
import { RevocationSet } from '../../../src/audit/index.js';
import { type Authenticator, principalFromClaims } from '../../../src/authn/index.js';
import {
  BrowserLogin, CookieSealer, cookieNames, MemorySessionStore, newSessionId, RedirectTargets,
  sessionHandle,
} from '../../../src/login/index.js';
import { silentLogger } from '../../../src/telemetry/index.js';

const kBatch = 1024;
const kSessions = 1000;

// Step 1: a store holding 1,000 sessions, as after a busy morning.
const store = new MemorySessionStore(10_000, 3_600_000);
const ids: string[] = [];
const now = Date.now();
for (let i = 0; i < kSessions; i++) {
  const id = newSessionId();
  const principal = principalFromClaims('https://idp.bench.test', { sub: `user-${i}`,
    email: `user-${i}@example.com`, email_verified: true, groups: ['staff', 'eng'] }, 'k1',
  'session', { groupsClaims: ['groups'], attributeClaims: {} });
  await store.save({ id, handle: sessionHandle(id), principal, createdAtMs: now,
    expiresAtMs: now + 43_200_000, lastSeenMs: now });
  ids.push(id);
}

// Step 2: the login runtime around it.
const names = cookieNames('portcullis');
const login = new BrowserLogin({
  metadata: { issuer: 'https://idp.bench.test', authorizationEndpoint: 'https://idp.bench.test/auth',
    tokenEndpoint: 'https://idp.bench.test/token', endSessionEndpoint: undefined,
    sendsIssuerInResponse: true },
  clientId: 'web', clientSecret: 'unused', scopes: ['openid'],
  paths: { callback: '/.portcullis/callback', login: '/.portcullis/login',
    logout: '/.portcullis/logout' },
  cookies: names, cookiePrefix: '__Host-portcullis-', sealer: new CookieSealer(undefined),
  loginTtlSec: 600, targets: new RedirectTargets([]), postLogoutRedirect: '/', idpLogout: false,
  idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 43_200_000, store,
  verifier: undefined as unknown as Authenticator,
  principalRules: { groupsClaims: [], attributeClaims: {} }, clockSkewSec: 30,
  fetchTimeoutMs: 5000, revocations: new RevocationSet(), logger: silentLogger(),
  isSecure: () => true,
});

// Step 3: request headers as a browser sends them (the session cookie among others).
const others = '_ga=GA1.1.1234567890.1700000000; theme=dark; lang=en-GB; csrf=9f8e7d6c5b4a';
const withSession = ids.slice(0, 64).map((id) => ['host', 'app.example.com', 'accept',
  'text/html,application/xhtml+xml', 'user-agent', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0',
  'cookie', `${others}; ${names.session}=${id}`, 'accept-language', 'en-GB,en;q=0.9']);
const withoutSession = ['host', 'app.example.com', 'accept', 'application/json', 'cookie', others];

let sink = 0;
const bench = new Bench({ name: 'login', time: 1000, warmupTime: 300 });
const batched = (fn: (i: number) => void) => () => {
  const start = bench.now();
  for (let i = 0; i < kBatch; i++) fn(i);
  const elapsed = bench.now() - start;
  return { overriddenDuration: elapsed / kBatch, overriddenIterationCost: elapsed };
};
bench.add('login/session-of sessions=1000 cookies=5', batched((i) => {
  const found = login.sessionOf(withSession[i & 63] as string[], '127.0.0.1', Date.now());
  if (found instanceof Promise || found === undefined) throw new Error('session not found');
  sink += found.principal.groups.length;
}));
bench.add('login/upstream-headers session=present', batched((i) => {
  sink += login.upstreamHeaders(withSession[i & 63] as string[]).length;
}));
bench.add('login/upstream-headers session=absent', batched(() => {
  sink += login.upstreamHeaders(withoutSession).length;
}));
await bench.run();

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}`);
console.log(`batch of ${kBatch} calls per sample, ${kSessions} sessions held, sink ${sink}`);
console.table(bench.table());
await store.stop();
