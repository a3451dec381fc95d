/**
 * Checks that span more than one field: unique service names, unique (host, pathPrefix) routes,
 * listeners that would collide on one port, an upstream's TLS settings against its addresses,
 * and each issuer's key source and refresh bounds (issuers unique).
 *
 * The root checks run even when other fields failed (so one load reports every problem), which
 * means they see a partly validated value: they read it defensively and skip anything that is
 * not yet well formed (its own diagnostic is already on the list).
 */
import { type z } from 'zod';
import { customIssue } from './schema-fields.js';
import {
  isHostPattern, isServiceName, parseUpstreamAddress, pathPrefixProblem,
} from './syntax.js';

type Ctx = z.core.$RefinementCtx<unknown>;
type Rec = Readonly<Record<string, unknown>>;

/** Root-level checks; `config` may be partly invalid. */
export function checkConfigCrossFields(config: unknown, ctx: Ctx): void {
  const root = asRecord(config);
  if (root === undefined) return;
  if (Array.isArray(root['services'])) checkServices(root['services'], ctx);
  checkListenerPorts(root, ctx);
  const issuers = asRecord(root['authn'])?.['issuers'];
  if (Array.isArray(issuers)) checkIssuers(issuers, ctx);
  if (Array.isArray(root['services']) && root['internalJwt'] === undefined) {
    root['services'].forEach((svc: unknown, i: number) => {
      if (asRecord(asRecord(svc)?.['identity'])?.['internalJwt'] === true) {
        addAt(ctx, ['services', i, 'identity', 'internalJwt'],
          'expected a top-level internalJwt block (issuer, signingKey) for the proxy to sign with');
      }
    });
  }
}

/** Upstream-level checks; runs only when the upstream block itself is valid. */
export function checkUpstreamTLS(upstream: { addresses: string[]; tls?: Rec | undefined },
  ctx: Ctx): void {
  // 1. one scheme per upstream: a mix would send some requests in plain text
  const schemes = upstream.addresses.map((a) => parseUpstreamAddress(a)?.isTLS ?? false);
  const mismatch = schemes.findIndex((isTLS) => isTLS !== schemes[0]);
  if (mismatch !== -1) {
    const message = 'expected every address to use the scheme of addresses[0] ' +
      '(mixing https:// and plain addresses would send some requests unencrypted)';
    addAt(ctx, ['addresses', mismatch], message);
  }

  // 2. a tls block only makes sense for https:// addresses
  const { tls } = upstream;
  if (tls === undefined) return;
  if (!schemes.some(Boolean)) {
    addAt(ctx, ['tls'], 'tls is set but no address starts with https://');
  }

  // 3. a client certificate needs its key, and a passphrase needs a key to unlock
  if ((tls['certFile'] === undefined) !== (tls['keyFile'] === undefined)) {
    addAt(ctx, ['tls'], 'certFile and keyFile must be given together');
  }
  if (tls['passphrase'] !== undefined && tls['keyFile'] === undefined) {
    const message = 'passphrase is set but there is no keyFile to unlock';
    addAt(ctx, ['tls', 'passphrase'], message);
  }
}

function checkServices(services: readonly unknown[], ctx: Ctx): void {
  const nameIndex = new Map<string, number>();
  const routeIndex = new Map<string, number>();

  services.forEach((raw, i) => {
    const service = asRecord(raw);
    if (service === undefined) return;

    // 1. names are unique: they label metrics, audit records and policy rules
    const name = service['name'];
    if (typeof name === 'string' && isServiceName(name)) {
      const first = nameIndex.get(name);
      if (first === undefined) nameIndex.set(name, i);
      else addAt(ctx, ['services', i, 'name'], `name "${name}" is taken by services[${first}]`);
    }

    // 2. each (host, pathPrefix) pair routes to one service only
    const prefix = service['pathPrefix'];
    if (typeof prefix !== 'string' || pathPrefixProblem(prefix) !== undefined) return;
    const hosts = Array.isArray(service['hosts']) ? service['hosts'] : [];
    hosts.forEach((host: unknown, j) => {
      if (typeof host !== 'string' || !isHostPattern(host.toLowerCase())) return;
      const key = `${host.toLowerCase()} ${prefix}`;
      const first = routeIndex.get(key);
      if (first === undefined) {
        routeIndex.set(key, i);
        return;
      }
      const owner = first === i ? 'this service' : `services[${first}]`;
      addAt(ctx, ['services', i, 'hosts', j],
        `host "${host}" with pathPrefix "${prefix}" is already routed by ${owner}`);
    });
  });
}

function checkIssuers(issuers: readonly unknown[], ctx: Ctx): void {
  const issuerIndex = new Map<string, number>();
  const kSources = ['discovery', 'jwksUrl', 'jwksFile'] as const;
  let introspecting: number | undefined;

  issuers.forEach((raw, i) => {
    const entry = asRecord(raw);
    if (entry === undefined) return;
    const at = ['authn', 'issuers', i];

    // 1. a token's iss selects one issuer entry, so each issuer string appears once
    const issuer = entry['issuer'];
    if (typeof issuer === 'string') {
      const first = issuerIndex.get(issuer);
      if (first === undefined) issuerIndex.set(issuer, i);
      else addAt(ctx, [...at, 'issuer'], `issuer "${issuer}" is taken by authn.issuers[${first}]`);
    }

    // 2. exactly one key source: with several, which keys are trusted would be unclear
    // (a jwksFile that failed to load still counts as written: its own diagnostic is listed)
    const written = kSources.filter((key) =>
      key === 'discovery' ? entry[key] === true : entry[key] !== undefined);
    const isIntrospecting = entry['introspection'] !== undefined;
    if (written.length > 1 || (written.length === 0 && !isIntrospecting)) {
      const found = written.length === 0 ? 'none is set' : `found ${written.join(', ')}`;
      const expected = 'expected exactly one key source (discovery: true, jwksUrl or jwksFile)' +
        ' or, for opaque tokens only, an introspection block';
      addAt(ctx, at, `${expected}, ${found}`);
    }

    // 2b. opaque tokens name no issuer, so only one issuer may be asked about them
    if (isIntrospecting) {
      if (introspecting === undefined) introspecting = i;
      else {
        addAt(ctx, [...at, 'introspection'],
          `only one issuer may introspect opaque tokens; authn.issuers[${introspecting}] does`);
      }
    }

    // 3. the refresh interval's bounds are in order
    const refresh = asRecord(entry['refresh']);
    const minMs = refresh?.['minMs'];
    const maxMs = refresh?.['maxMs'];
    if (typeof minMs === 'number' && typeof maxMs === 'number' && minMs > maxMs) {
      addAt(ctx, [...at, 'refresh', 'minMs'],
        `refresh.minMs (${minMs}) is greater than refresh.maxMs (${maxMs})`);
    }
  });
}

function checkListenerPorts(root: Rec, ctx: Ctx): void {
  const listeners = asRecord(root['listeners']);
  const demo = asRecord(root['demo']);
  const candidates: Array<{ path: string[]; host: unknown; port: unknown }> = [
    { path: ['listeners', 'proxy'], ...pick(asRecord(listeners?.['proxy'])) },
    { path: ['listeners', 'admin'], ...pick(asRecord(listeners?.['admin'])) },
  ];
  for (const name of ['mtls', 'decision']) {
    const block = asRecord(listeners?.[name]);
    if (block !== undefined) candidates.push({ path: ['listeners', name], ...pick(block) });
  }
  if (demo?.['enabled'] === true) {
    candidates.push({ path: ['demo'], host: '127.0.0.1', port: demo['port'] });
  }

  // Port 0 lets the OS choose, so it never collides.
  const seen: Array<{ path: string[]; host: string; port: number }> = [];
  for (const { path, host, port } of candidates) {
    if (typeof host !== 'string' || typeof port !== 'number' || port === 0) continue;
    const clash = seen.find((s) => s.port === port && hostsOverlap(s.host, host));
    if (clash !== undefined) {
      addAt(ctx, [...path, 'port'], `port ${port} is already taken by ${clash.path.join('.')}`);
    }
    seen.push({ path, host, port });
  }
}

function pick(listener: Rec | undefined): { host: unknown; port: unknown } {
  return { host: listener?.['host'], port: listener?.['port'] };
}

function hostsOverlap(a: string, b: string): boolean {
  const isAny = (h: string): boolean => h === '0.0.0.0' || h === '::';
  return a === b || isAny(a) || isAny(b);
}

function addAt(ctx: Ctx, path: PropertyKey[], message: string): void {
  ctx.addIssue(customIssue(message, path));
}

function asRecord(value: unknown): Rec | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ?
    value as Rec : undefined;
}
