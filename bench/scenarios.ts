/**
 * Benchmark scenarios as data: what runs, how it is configured, and the targets it is judged
 * by. The runners in bench/e2e/ read these; changing a figure here changes every report.
 * Names follow `stage/case` (STYLE.md section 5).
 */

/** The upstream's answer body: 97 bytes, the size used for the peers in peers.md. */
export const kUpstreamBody = 'portcullis bench upstream: a fixed 97-byte body '
  + 'so every target moves the same bytes............!';

/** Names of the end-to-end forwarding scenarios, in the order of the first round. */
export type ForwardScenarioName = 'forward/direct' | 'forward/nginx-proxy' | 'forward/portcullis';

/** One target of the forwarding bench: a server wrk drives, pinned alone to the test core. */
export interface ForwardScenario {
  readonly name: ForwardScenarioName;
  /** One line for the report. */
  readonly summary: string;
  /** What runs: an nginx built from `nginxConf`, or `bin/portcullis.js serve`. */
  readonly kind: 'nginx' | 'portcullis';
  /**
   * For `kind: 'nginx'`: the http{} body, given the upstream's port. `{{port:target}}` marks the
   * port wrk drives (see test/support/nginx.ts for the placeholder rules).
   */
  readonly nginxConf?: (upstreamPort: number) => string;
}

/** The upstream every forwarder talks to: nginx, one worker, `return 200` with kUpstreamBody. */
export function upstreamConf(): string {
  return returnServer('{{port:target}}');
}

function returnServer(port: string): string {
  return `
  server {
    listen 127.0.0.1:${port};
    location / { return 200 '${kUpstreamBody}'; }
  }`;
}

/** The three targets, interleaved round by round (round r starts at index r mod 3). */
export const kForwardScenarios: readonly ForwardScenario[] = [
  {
    name: 'forward/direct',
    summary: 'nginx `return 200` (the upstream\'s config), one worker: the serving ceiling',
    kind: 'nginx',
    nginxConf: () => returnServer('{{port:target}}'),
  },
  {
    name: 'forward/nginx-proxy',
    summary: 'nginx `proxy_pass` to the upstream with keep-alive 64, one worker',
    kind: 'nginx',
    nginxConf: (upstreamPort) => `
  upstream bench_upstream {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:{{port:target}};
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }`,
  },
  {
    name: 'forward/portcullis',
    summary: 'Portcullis forwarding to the upstream: one public service, log level warn, audit sink off',
    kind: 'portcullis',
  },
];

/** The Portcullis config of `forward/portcullis`: every host and path to the upstream. */
export function portcullisConfig(
  proxyPort: number, adminPort: number, upstreamPort: number,
): string {
  return [
    'listeners:',
    `  proxy: { host: 127.0.0.1, port: ${proxyPort} }`,
    `  admin: { host: 127.0.0.1, port: ${adminPort} }`,
    'log: { level: warn }',
    // Benchmarks price the request path with the audit sink off; bench/e2e/audit-sink.ts
    // prices the sink itself.
    'audit: { sink: none }',
    'services:',
    '  - name: bench',
    "    hosts: ['*']",
    '    pathPrefix: /',
    '    access: public',
    `    upstream: { addresses: ['127.0.0.1:${upstreamPort}'] }`,
    '',
  ].join('\n');
}

/** Load shape and run lengths. wrk: one thread, 64 connections, as in peers.md. */
export const kForwardLoad = {
  threads: 1,
  connections: 64,
  full: { seconds: 8, rounds: 3, warmupSeconds: 2 },
  quick: { seconds: 3, rounds: 1, warmupSeconds: 1 },
} as const;

/** CPU pinning (taskset lists): the target alone on one core; wrk and the upstream on the other. */
export const kForwardPinning = { target: '0', loadAndUpstream: '1' } as const;

/** Pass/fail targets of the forwarding bench. 1 MB = 10^6 bytes. */
export const kForwardTargets = {
  /** Portcullis req/s at least this fraction of nginx proxy_pass req/s. */
  minReqPerSecRatio: 0.6,
  /** Portcullis p99 at most this multiple of nginx proxy_pass p99. */
  maxP99Ratio: 2,
  /** Idle keep-alive connections held open for the RSS probe. */
  idleConnections: 1_000,
  /** Portcullis RSS with those connections open stays below this. */
  maxIdleRssBytes: 120_000_000,
} as const;

// ---------------------------------------------------------------------------------------------
// Authentication at the edge (bench/e2e/authn-edge.ts, `npm run bench:authn`).

/** The issuer, audience and key id every bench token carries. */
export const kBenchIssuer = 'https://idp.bench.portcullis.test';
export const kBenchAudience = 'bench-api';

/** Algorithms of the cold-verification section: one key pair each, one token set each. */
export type AuthnAlgorithm = 'RS256' | 'ES256';
export const kAuthnAlgorithms: readonly AuthnAlgorithm[] = ['RS256', 'ES256'];

/** Route prefixes of the Portcullis config: a public service and an authenticated one. */
export const kPublicPath = '/public/item';
export const kPrivatePath = '/private/item';

/** Portcullis's verifier settings for one target: `authn.pool` in its config. */
export interface PortcullisVerifier {
  readonly threads: number;
  readonly batchMaxItems: number;
  readonly batchMaxWaitUs: number;
  /** Algorithms verified on the main thread; the rest go to the pool. */
  readonly inline: readonly AuthnAlgorithm[];
}

/** The default pool (the config defaults) and main-thread verification. */
const kPoolDefault: PortcullisVerifier = {
  threads: 2, batchMaxItems: 16, batchMaxWaitUs: 200, inline: [],
};
const kInlineAll: PortcullisVerifier = { ...kPoolDefault, inline: ['RS256', 'ES256'] };

/**
 * Section 1, the cached path: one Portcullis process, the same wrk load on the public route
 * (without a token, and with the very header the authenticated route gets, so the request bytes
 * match) and with one reused RS256 token on the authenticated route. `public-again` is the same
 * build and request as `public`, measured as a separate target: the noise floor of the
 * CPU-per-request differences.
 */
export type CachedScenarioName = 'authn/public' | 'authn/public token=RS256'
  | 'authn/cached alg=RS256' | 'authn/public-again';

export interface CachedScenario {
  readonly name: CachedScenarioName;
  readonly summary: string;
  readonly path: string;
  /** Whether wrk sends `Authorization: Bearer <the one RS256 token>`. */
  readonly hasToken: boolean;
}

export const kCachedScenarios: readonly CachedScenario[] = [
  { name: 'authn/public', summary: 'public route, no Authorization header', path: kPublicPath,
    hasToken: false },
  { name: 'authn/public token=RS256', summary: 'public route, the same Authorization header as '
    + 'the authenticated route (not checked; forwarded as any header)', path: kPublicPath,
    hasToken: true },
  { name: 'authn/cached alg=RS256', summary: 'authenticated route, one reused RS256 token '
    + '(verified once, then answered by the verified-token cache)', path: kPrivatePath,
    hasToken: true },
  { name: 'authn/public-again', summary: 'the same as authn/public, measured again: the noise '
    + 'floor of the differences', path: kPublicPath, hasToken: false },
];

/** Which server a cold-verification target runs. */
export type ColdKind = 'portcullis' | 'haproxy' | 'fastify';

/** Section 2, cold verification: every request carries a token the target has not seen. */
export interface ColdScenario {
  /** `authn/cold alg=<alg> target=<target>`. */
  readonly name: string;
  readonly alg: AuthnAlgorithm;
  readonly target: string;
  readonly kind: ColdKind;
  readonly summary: string;
  /** For `kind: 'portcullis'`. */
  readonly verifier?: PortcullisVerifier;
  /**
   * taskset list overriding the target core: informational rows that let the process use both
   * cores (taking what wrk and the upstream leave); never compared with the one-core peers.
   */
  readonly cpus?: string;
}

/** The cold targets for one algorithm, in the order of the first round. */
function coldScenarios(alg: AuthnAlgorithm): ColdScenario[] {
  const name = (target: string): string => `authn/cold alg=${alg} target=${target}`;
  return [
    { name: name('portcullis-pool'), alg, target: 'portcullis-pool', kind: 'portcullis',
      verifier: kPoolDefault,
      summary: 'Portcullis, Piscina pool (2 threads, batches of up to 16, 200 µs wait)' },
    { name: name('portcullis-pool-1t'), alg, target: 'portcullis-pool-1t', kind: 'portcullis',
      verifier: { threads: 1, batchMaxItems: 64, batchMaxWaitUs: 200, inline: [] },
      summary: 'Portcullis, Piscina pool tuned for one core (1 thread, batches of up to 64)' },
    { name: name('portcullis-inline'), alg, target: 'portcullis-inline', kind: 'portcullis',
      verifier: kInlineAll,
      summary: 'Portcullis, main-thread verification (jose + WebCrypto on libuv\'s threads)' },
    { name: name('portcullis-pool-2cores'), alg, target: 'portcullis-pool-2cores',
      kind: 'portcullis', verifier: kPoolDefault, cpus: '0,1',
      summary: 'informational: the default pool, process allowed on both cores' },
    { name: name('portcullis-inline-2cores'), alg, target: 'portcullis-inline-2cores',
      kind: 'portcullis', verifier: kInlineAll, cpus: '0,1',
      summary: 'informational: inline, process allowed on both cores' },
    { name: name('haproxy'), alg, target: 'haproxy', kind: 'haproxy',
      summary: 'HAProxy 2.6 `jwt_verify` with alg/iss/aud/exp ACLs, nbthread 1' },
    { name: name('fastify'), alg, target: 'fastify', kind: 'fastify',
      summary: 'fastify + @fastify/jwt (`await request.jwtVerify()`) + @fastify/http-proxy' },
  ];
}

export const kColdScenarios: readonly ColdScenario[] = kAuthnAlgorithms.flatMap(coldScenarios);

/**
 * Portcullis's config for the authn bench: a public and an authenticated service in front of
 * the upstream, one issuer whose keys come from `jwksFile` (absolute path).
 */
export function authnPortcullisConfig(opts: {
  proxyPort: number; adminPort: number; upstreamPort: number; jwksFile: string;
  verifier: PortcullisVerifier;
}): string {
  const v = opts.verifier;
  const upstream = `    upstream: { addresses: ['127.0.0.1:${opts.upstreamPort}'] }`;
  return [
    'listeners:',
    `  proxy: { host: 127.0.0.1, port: ${opts.proxyPort} }`,
    `  admin: { host: 127.0.0.1, port: ${opts.adminPort} }`,
    'log: { level: warn }',
    'audit: { sink: none }',
    'authn:',
    `  pool: { threads: ${v.threads}, batchMaxItems: ${v.batchMaxItems}, `
      + `batchMaxWaitUs: ${v.batchMaxWaitUs}, inlineAlgorithms: [${v.inline.join(', ')}] }`,
    '  issuers:',
    `    - issuer: ${kBenchIssuer}`,
    `      jwksFile: ${JSON.stringify(opts.jwksFile)}`,
    `      algorithms: [${kAuthnAlgorithms.join(', ')}]`,
    `      audiences: [${kBenchAudience}]`,
    'services:',
    '  - name: public',
    `    pathPrefix: ${kPublicPath.slice(0, kPublicPath.indexOf('/', 1))}`,
    '    access: public',
    upstream,
    '  - name: private',
    `    pathPrefix: ${kPrivatePath.slice(0, kPrivatePath.indexOf('/', 1))}`,
    '    access: authenticated',
    upstream,
    '',
  ].join('\n');
}

/**
 * HAProxy 2.6's config: `jwt_verify` checks the signature only, so the algorithm, issuer,
 * audience and expiry are ACL rules over `jwt_header_query` / `jwt_payload_query`. The key is a
 * PEM public key file (a certificate is refused with a misleading "file not found"). One thread,
 * keep-alive to the upstream.
 */
export function haproxyConfig(opts: {
  port: number; upstreamPort: number; alg: AuthnAlgorithm; publicKeyPem: string;
  authz?: PeerAuthz;
}): string {
  return `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend bench
  bind 127.0.0.1:${opts.port}
  http-request deny deny_status 401 unless { req.hdr_cnt(authorization) eq 1 }
  http-request set-var(txn.bearer) http_auth_bearer
  http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('$.alg')
  http-request deny deny_status 401 unless { var(txn.alg) -m str ${opts.alg} }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_verify(txn.alg,"${opts.publicKeyPem}") -m int 1 }
  http-request set-var(txn.iss) var(txn.bearer),jwt_payload_query('$.iss')
  http-request set-var(txn.aud) var(txn.bearer),jwt_payload_query('$.aud')
  http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('$.exp','int')
  http-request set-var(txn.now) date()
  http-request deny deny_status 401 unless { var(txn.iss) -m str ${kBenchIssuer} }
  http-request deny deny_status 401 unless { var(txn.aud) -m str ${kBenchAudience} }
  http-request deny deny_status 401 if { var(txn.exp),sub(txn.now) -m int le 0 }
${opts.authz === undefined ? '' : haproxyAuthzLines(opts.authz)}  default_backend upstream
backend upstream
  http-reuse always
  server up 127.0.0.1:${opts.upstreamPort} maxconn 64
`;
}

/**
 * The authorization the peers add in the suite's authz scenarios (bench/scenarios-suite.ts):
 * the token's `scope` claim must hold `scope` (one space-separated entry) and the path must be
 * `path` exactly, else 403, as the Portcullis policy's rule requires.
 */
export interface PeerAuthz {
  readonly scope: string;
  readonly path: string;
}

function haproxyAuthzLines(authz: PeerAuthz): string {
  // POSIX classes, not \s: the ACL regex must not depend on HAProxy's regex library.
  const scope = `(^|[[:space:]])${authz.scope}([[:space:]]|$)`;
  return `  http-request set-var(txn.scope) var(txn.bearer),jwt_payload_query('$.scope')
  http-request deny deny_status 403 unless { path ${authz.path} } { var(txn.scope) -m reg ${scope} }
`;
}

/** Load shape and run lengths of the authn bench; wrk as in kForwardLoad. */
export const kAuthnLoad = {
  threads: 1,
  connections: 64,
  full: { seconds: 8, rounds: 3, warmupSeconds: 2 },
  quick: { seconds: 3, rounds: 1, warmupSeconds: 1 },
  /**
   * The cached path: its difference is a few µs against run-to-run drift of several, so many
   * short adjacent runs, paired by round, rather than a few long ones.
   */
  cached: {
    full: { seconds: 4, rounds: 9, warmupSeconds: 1 },
    quick: { seconds: 2, rounds: 2, warmupSeconds: 1 },
  },
  /**
   * A run during which other processes took more than 10% of the target CPU is measured again,
   * at most this many times; the discarded attempts stay in the report.
   */
  maxReruns: 2,
  /**
   * Highest cold-verification rate any target is expected to reach here, per algorithm: each
   * run gets this many unique tokens per second of its length. A faster target runs out, gets
   * 401s for the rest, and its run is marked invalid (raise the figure then).
   */
  maxColdReqPerSec: { RS256: 25_000, ES256: 15_000 },
  /** Token validity: tokens expire this long after they are made; reused while 2 h remain. */
  tokenLifetimeSec: 48 * 3600,
  minTokenValiditySec: 2 * 3600,
} as const;

/** Pass/fail targets of the authn bench (issue 3). */
export const kAuthnTargets = {
  /** Main-thread cost of a cached-token request over a public one, median µs. */
  maxCachedPathUs: 3,
  /** Portcullis unique-token RS256 req/s at least this multiple of HAProxy's. */
  minVsHaproxy: 1,
  /** ... and at least this multiple of fastify + @fastify/jwt's. */
  minVsFastify: 2,
} as const;

/** Policy-engine micro-benchmark scenarios (bench/micro/authz/): the same generated policy and
 * requests go to every engine. See bench/micro/authz/policy-gen.ts for the shape. */
export interface AuthzScenario {
  readonly name: string;
  readonly rules: number;
  readonly requests: number;
  /** Seed of the request generator, so every run decides the same requests. */
  readonly seed: number;
}

/** 50, 1,000 and 10,000 rules; 1,000 requests each. */
export const kAuthzScenarios: readonly AuthzScenario[] = [50, 1000, 10_000].map((rules) => ({
  name: `authz/decide rules=${rules}`, rules, requests: 1000, seed: 42,
}));

/** What one target of the audit-sink bench turns on (bench/e2e/audit-sink.ts). */
export interface AuditSinkScenario {
  readonly name: string;
  readonly summary: string;
  readonly sink: 'none' | 'file';
  /** A live-feed subscriber during the runs: none, one that reads, one that never reads. */
  readonly feed: 'none' | 'reader' | 'stalled';
}

/**
 * The audit-sink bench: the forwarding target with the sink off and on, interleaved round by
 * round. `sink=none` twice measures the noise of the machine (same build against itself); the
 * feed variants show that a subscriber, however slow, does not cost the request path.
 */
export const kAuditSinkScenarios: readonly AuditSinkScenario[] = [
  { name: 'audit/sink=none', summary: 'records built, metrics and sessions kept, nothing written',
    sink: 'none', feed: 'none' },
  { name: 'audit/sink=file', summary: 'the file sink (batched, rotating at 100 MiB)',
    sink: 'file', feed: 'none' },
  { name: 'audit/sink=none again', summary: 'the first target again: the noise of this machine',
    sink: 'none', feed: 'none' },
  { name: 'audit/sink=file feed=reader', summary: 'file sink and a feed subscriber that reads',
    sink: 'file', feed: 'reader' },
  { name: 'audit/sink=file feed=stalled',
    summary: 'file sink and a feed subscriber that never reads (its socket stays full)',
    sink: 'file', feed: 'stalled' },
];

/** The Portcullis config of an audit-sink target; `file` is the audit file's path. */
export function auditSinkConfig(proxyPort: number, adminPort: number, upstreamPort: number,
  scenario: AuditSinkScenario, file: string): string {
  const sink = scenario.sink === 'none' ? '{ sink: none }'
    : `\n  sink: file\n  file: { path: '${file}', maxFiles: 2 }`;
  return [
    portcullisConfig(proxyPort, adminPort, upstreamPort).replace('audit: { sink: none }\n', '')
      .trimEnd(),
    'admin: { token: { env: PORTCULLIS_BENCH_ADMIN_TOKEN } }',
    // A stalled subscriber stays for the whole run instead of being closed after 10 s.
    `audit:${sink === '{ sink: none }' ? ` ${sink}` : sink}`,
    ...(scenario.sink === 'file' ? ['  feed: { slowCloseAfterMs: 600000 }'] : []),
    '',
  ].join('\n');
}

/** Pass/fail target of the audit-sink bench. */
export const kAuditSinkTargets = {
  /** `sink=file` req/s at least this fraction of `sink=none` req/s (issue 5: at most 5% cost). */
  minFileOverNoneRatio: 0.95,
} as const;
