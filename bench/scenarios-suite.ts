/**
 * The scenarios of the whole suite (`npm run bench`, bench/suite/), as data: which targets run,
 * in which rotation, with which credentials, and the targets the report judges. The servers and
 * configs they share with the single-topic benches come from bench/scenarios.ts.
 */
import { kBenchAudience, kBenchIssuer, kPrivatePath } from './scenarios.js';

/**
 * A rotation: targets measured round by round against each other. `one-core` targets run alone
 * on CPU 0; `unique` targets get a fresh process per run (every token unseen); `multicore`
 * targets may use both CPUs, which wrk and the upstream share with them.
 */
export type SuiteRotation = 'one-core' | 'unique' | 'multicore';

/** The report's sections; a target appears in one (forward/direct in two). */
export type SuiteSection = 'serving' | 'forwarding' | 'authz-cached' | 'authz-unique'
  | 'decision' | 'multicore';

/** What a target's process is. */
export type SuiteKind = 'uws-hello' | 'nginx-direct' | 'nginx-proxy' | 'portcullis-public'
  | 'portcullis-authz' | 'portcullis-decision' | 'haproxy-authz' | 'fastify-authz';

/** One target of the suite. */
export interface SuiteScenario {
  /** `stage/case key=value` (STYLE.md section 5). */
  readonly name: string;
  readonly rotation: SuiteRotation;
  readonly sections: readonly SuiteSection[];
  readonly kind: SuiteKind;
  readonly summary: string;
  /** The bearer token each request carries: none, one reused RS256 token, a new one each time. */
  readonly token: 'none' | 'reused' | 'unique';
  /** `serve --threads N` (multicore rows only). */
  readonly threads?: number;
}

const kOneCore = 'one-core';

/** Every target, in the order of each rotation's first round. */
export const kSuiteScenarios: readonly SuiteScenario[] = [
  { name: 'serve/uws-hello', rotation: kOneCore, sections: ['serving'], kind: 'uws-hello',
    token: 'none', summary: 'uWS.js hello world (the project\'s package, native build): 200 with '
      + 'the upstream\'s 97-byte body' },
  { name: 'forward/direct', rotation: kOneCore, sections: ['serving', 'forwarding'],
    kind: 'nginx-direct', token: 'none',
    summary: 'nginx `return 200` with the upstream\'s config, one worker: the upstream direct' },
  { name: 'forward/nginx-proxy', rotation: kOneCore, sections: ['forwarding'],
    kind: 'nginx-proxy', token: 'none',
    summary: 'nginx `proxy_pass` to the upstream, keep-alive 64, one worker' },
  { name: 'forward/portcullis', rotation: kOneCore, sections: ['forwarding'],
    kind: 'portcullis-public', token: 'none',
    summary: 'Portcullis, one public service, no authentication (the no-auth baseline)' },
  { name: 'authz/cached target=portcullis', rotation: kOneCore, sections: ['authz-cached'],
    kind: 'portcullis-authz', token: 'reused', summary: 'Portcullis: RS256 JWT verified once '
      + 'then cached, 50-rule signed policy bundle, forwarding' },
  { name: 'authz/cached target=haproxy', rotation: kOneCore, sections: ['authz-cached'],
    kind: 'haproxy-authz', token: 'reused', summary: 'HAProxy 2.6 `jwt_verify` (every request) '
      + 'with alg/iss/aud/exp ACLs, a scope ACL and a path ACL, nbthread 1' },
  { name: 'authz/cached target=fastify', rotation: kOneCore, sections: ['authz-cached'],
    kind: 'fastify-authz', token: 'reused', summary: 'fastify + @fastify/jwt (every request) '
      + '+ a scope and path check + @fastify/http-proxy' },
  { name: 'authz/decision target=portcullis', rotation: kOneCore, sections: ['decision'],
    kind: 'portcullis-decision', token: 'reused', summary: 'Portcullis decision listener '
      + '(flavor nginx, `X-Original-*` headers): cached JWT + the 50-rule policy, 200, no '
      + 'forwarding' },
  { name: 'authz/unique target=portcullis', rotation: 'unique', sections: ['authz-unique'],
    kind: 'portcullis-authz', token: 'unique', summary: 'Portcullis as above, every request a new '
      + 'RS256 token (verified in the default pool)' },
  { name: 'authz/unique target=haproxy', rotation: 'unique', sections: ['authz-unique'],
    kind: 'haproxy-authz', token: 'unique',
    summary: 'HAProxy as above, every request a new token' },
  { name: 'authz/unique target=fastify', rotation: 'unique', sections: ['authz-unique'],
    kind: 'fastify-authz', token: 'unique',
    summary: 'fastify as above, every request a new token' },
  ...[1, 2].flatMap((threads): SuiteScenario[] => [
    { name: `multicore/forward threads=${threads}`, rotation: 'multicore', sections: ['multicore'],
      kind: 'portcullis-public', token: 'none', threads,
      summary: `Portcullis no-auth forwarding, \`serve --threads ${threads}\`, CPUs 0 and 1` },
    { name: `multicore/authz threads=${threads}`, rotation: 'multicore', sections: ['multicore'],
      kind: 'portcullis-authz', token: 'reused', threads,
      summary: `Portcullis cached JWT + 50-rule policy, \`serve --threads ${threads}\`, CPUs 0 `
        + 'and 1' },
  ]),
];

/** Run lengths of the suite's load runs (wrk as in kForwardLoad: -t1 -c64). */
export const kSuiteLoad = {
  threads: 1,
  connections: 64,
  full: { seconds: 8, rounds: 3, warmupSeconds: 2 },
  quick: { seconds: 3, rounds: 1, warmupSeconds: 1 },
  /** A run disturbed by other processes (over 10% of CPU 0) is measured again at most once. */
  maxReruns: 1,
  /** taskset list of the multicore rows: both CPUs, shared with wrk and the upstream on CPU 1. */
  multicoreCpus: '0,1',
} as const;

/**
 * The policy of the authz targets: policy-gen.ts's generator (47 allow rules, which brings 2
 * deny overrides) plus the one rule the bench request matches, last in file order: 50 rules.
 * The request is allowed only through a role that the token's `scope` claim assigns.
 */
export const kAuthzPolicy = {
  generatedRules: 47,
  totalRules: 50,
  seed: 42,
  role: 'bench-orders-reader',
  scope: 'orders:read',
  ruleId: 'bench-orders-read',
  /** The Portcullis service the rule names (the authenticated route). */
  service: 'private',
  /** Allowed path, and a path under the same service no rule allows (checked to answer 403). */
  path: kPrivatePath,
  deniedPath: '/private/other',
} as const;

/** The bench's rule file (`zz-bench.yaml`: read after the generated file). */
export function benchPolicyYaml(): string {
  const p = kAuthzPolicy;
  return [
    'roles:',
    `  ${p.role}: {}`,
    'assignments:',
    `  - { role: ${p.role}, scopes: ['${p.scope}'] }`,
    'rules:',
    `  - { id: ${p.ruleId}, effect: allow, who: { roles: [${p.role}] }, services: [${p.service}], `
      + `methods: [GET], paths: ['${p.path}'] }`,
    '',
  ].join('\n');
}

/**
 * Portcullis with the signed bundle: one authenticated service in front of the upstream, one
 * issuer from `jwksFile`, the default verifier pool, and optionally the decision listener.
 */
export function authzPortcullisConfig(opts: {
  proxyPort: number; adminPort: number; upstreamPort: number; jwksFile: string;
  bundleFile: string; publicKeyFile: string; decisionPort?: number;
}): string {
  return [
    'listeners:',
    `  proxy: { host: 127.0.0.1, port: ${opts.proxyPort} }`,
    `  admin: { host: 127.0.0.1, port: ${opts.adminPort} }`,
    ...(opts.decisionPort === undefined ? [] : [`  decision: { host: 127.0.0.1, port: `
      + `${opts.decisionPort}, flavor: nginx, trustedIngress: ['127.0.0.1'] }`]),
    'log: { level: warn }',
    'audit: { sink: none }',
    'authn:',
    '  issuers:',
    `    - issuer: ${kBenchIssuer}`,
    `      jwksFile: ${JSON.stringify(opts.jwksFile)}`,
    '      algorithms: [RS256, ES256]',
    `      audiences: [${kBenchAudience}]`,
    'policy:',
    `  publicKeys: [${JSON.stringify(opts.publicKeyFile)}]`,
    `  file: ${JSON.stringify(opts.bundleFile)}`,
    'services:',
    `  - name: ${kAuthzPolicy.service}`,
    `    pathPrefix: /${kAuthzPolicy.path.split('/')[1]}`,
    `    upstream: { addresses: ['127.0.0.1:${opts.upstreamPort}'] }`,
    '',
  ].join('\n');
}

/** The headers of a decision check as nginx `auth_request` sends them (README, Decision API). */
export function decisionCheckHeaders(token: string | undefined): string[] {
  return [
    'X-Original-Method: GET',
    `X-Original-URI: ${kAuthzPolicy.path}`,
    'X-Real-IP: 127.0.0.1',
    ...(token === undefined ? [] : [`Authorization: Bearer ${token}`]),
  ];
}

/** Pass/fail targets of the suite (issue 6). 1 MB = 10^6 bytes. */
export const kSuiteTargets = {
  /** Cached JWT + policy + forwarding req/s at least this fraction of no-auth forwarding. */
  minAuthzOverNoAuth: 0.9,
  /** ... and at least these multiples of HAProxy's and fastify's, same token, same request. */
  minAuthzOverHaproxy: 2,
  minAuthzOverFastify: 5,
  /** Unique RS256 tokens: Portcullis req/s at least this multiple of HAProxy's. */
  minUniqueOverHaproxy: 1,
  /** Peak RSS of any Portcullis process over its load runs stays below this. */
  maxPeakRssBytes: 150_000_000,
} as const;
