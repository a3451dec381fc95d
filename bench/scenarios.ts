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
    summary: 'Portcullis forwarding to the upstream: one public service, log level warn',
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
