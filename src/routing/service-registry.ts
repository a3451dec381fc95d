/**
 * The service registry: maps a normalized host and a canonical path to the service registered
 * for them. Built once per configuration; `match` runs on every request.
 *
 * Host tiers, most specific first: the exact name, then wildcard suffixes from the longest to
 * the shortest, then '*'. Within a tier the longest path prefix on a segment boundary wins; when
 * a tier has no prefix for the path, the next tier is tried. Prefixes are literals: '.' in a
 * prefix or host is a dot, never a pattern.
 */
import { PortcullisError } from '../errors/index.js';
import { type HostPattern, normalizeRequestHost, parseHostPattern } from './host-pattern.js';
import {
  type PathBoundaries,
  PrefixTable,
  computeBoundaries,
  createBoundaries,
} from './prefix-table.js';
import { canonicalizeTarget } from './request-target.js';

/** One configured route: the hosts and path prefix it serves, and the service behind it. */
export interface RouteSpec<S> {
  /** Exact names, '*.suffix' wildcards or '*'; no ports. */
  readonly hosts: readonly string[];
  /** Canonical prefix: '/' or '/seg(/seg)*' without trailing slash. */
  readonly pathPrefix: string;
  /** Remove the prefix from the path sent upstream. */
  readonly stripPrefix: boolean;
  readonly service: S;
}

/** The route chosen for a request. A fresh object per call; the caller may keep it. */
export interface RouteMatch<S> {
  readonly service: S;
  /** Canonical path after optional prefix stripping; always starts with '/'. */
  readonly upstreamPath: string;
  /** The configured prefix that matched. */
  readonly pathPrefix: string;
}

interface Route<S> {
  readonly service: S;
  readonly stripPrefix: boolean;
}

interface SuffixTier<S> {
  readonly suffix: string;
  readonly table: PrefixTable<Route<S>>;
}

const kRootOptions = { slashes: 'reject', maxUrlBytes: Number.MAX_SAFE_INTEGER } as const;

/** Host and path-prefix routing table. Immutable after construction. */
export class ServiceRegistry<S> {
  #exact = new Map<string, PrefixTable<Route<S>>>();
  #suffixesByLength = new Map<number, SuffixTier<S>[]>();
  #any: PrefixTable<Route<S>> | undefined;
  #maxPrefixLength = 1;
  #bounds: PathBoundaries;

  /**
   * Build the table. Throws PortcullisError('IAM_CONFIG_INVALID') naming the route when a
   * prefix is not canonical, a host pattern is invalid or has a port, a route lists no host, or
   * two routes claim the same (host pattern, prefix) pair.
   */
  constructor(routes: readonly RouteSpec<S>[]) {
    routes.forEach((spec, index) => {
      const where = `routes[${index}] (prefix '${spec.pathPrefix}')`;
      if (!isCanonicalPrefix(spec.pathPrefix)) {
        throw new PortcullisError('IAM_CONFIG_INVALID', `${where}: path prefix is not canonical.`);
      }
      if (spec.hosts.length === 0) {
        throw new PortcullisError('IAM_CONFIG_INVALID', `${where}: no hosts listed.`);
      }

      const route: Route<S> = { service: spec.service, stripPrefix: spec.stripPrefix };
      for (const host of spec.hosts) {
        const pattern = parseHostPattern(host);
        if (pattern === undefined) {
          const detail = `${where}: invalid host pattern '${host}'.`;
          throw new PortcullisError('IAM_CONFIG_INVALID', detail);
        }
        const table = this.#tableFor(pattern);
        if (!table.add(spec.pathPrefix, route)) {
          const detail = `${where}: host '${host}' with this prefix is already routed.`;
          throw new PortcullisError('IAM_CONFIG_INVALID', detail);
        }
        if (table.maxLength > this.#maxPrefixLength) this.#maxPrefixLength = table.maxLength;
      }
    });
    this.#bounds = createBoundaries(this.#maxPrefixLength);
  }

  /**
   * Find the route for `host` (the normalized `host` of parseHost; other forms are normalized on
   * a slower path, ports ignored) and `canonicalPath` (the `path` of canonicalizeTarget).
   * Returns `undefined` when nothing matches, which the caller answers with IAM_ROUTING_NO_ROUTE.
   * Allocates only the result and, with stripping, the stripped path.
   */
  match(host: string, canonicalPath: string): RouteMatch<S> | undefined {
    const name = normalizeRequestHost(host);
    if (name === undefined) return undefined;
    const bounds = this.#bounds;
    computeBoundaries(canonicalPath, this.#maxPrefixLength, bounds);

    // Tier 1: the exact name.
    const exact = this.#exact.get(name)?.find(canonicalPath, bounds);
    if (exact !== undefined) return toMatch(exact.prefix, exact.value, canonicalPath);

    // Tier 2: wildcard suffixes, longest first; each '.' after the first label starts one.
    if (this.#suffixesByLength.size > 0) {
      for (let dot = name.indexOf('.'); dot > 0; dot = name.indexOf('.', dot + 1)) {
        const tiers = this.#suffixesByLength.get(name.length - dot);
        if (tiers === undefined) continue;
        for (let k = 0; k < tiers.length; k++) {
          const tier = tiers[k] as SuffixTier<S>;
          if (!name.startsWith(tier.suffix, dot)) continue;
          const entry = tier.table.find(canonicalPath, bounds);
          if (entry !== undefined) return toMatch(entry.prefix, entry.value, canonicalPath);
        }
      }
    }

    // Tier 3: any host.
    const any = this.#any?.find(canonicalPath, bounds);
    return any === undefined ? undefined : toMatch(any.prefix, any.value, canonicalPath);
  }

  #tableFor(pattern: HostPattern): PrefixTable<Route<S>> {
    if (pattern.kind === 'any') return (this.#any ??= new PrefixTable());
    if (pattern.kind === 'exact') {
      let table = this.#exact.get(pattern.name);
      if (table === undefined) this.#exact.set(pattern.name, (table = new PrefixTable()));
      return table;
    }

    let tiers = this.#suffixesByLength.get(pattern.suffix.length);
    if (tiers === undefined) this.#suffixesByLength.set(pattern.suffix.length, (tiers = []));
    let tier = tiers.find((t) => t.suffix === pattern.suffix);
    if (tier === undefined) {
      tier = { suffix: pattern.suffix, table: new PrefixTable() };
      tiers.push(tier);
    }
    return tier.table;
  }
}

function toMatch<S>(prefix: string, route: Route<S>, path: string): RouteMatch<S> {
  let upstreamPath = path;
  if (route.stripPrefix && prefix !== '/') {
    upstreamPath = path.length === prefix.length ? '/' : path.slice(prefix.length);
  }
  return { service: route.service, upstreamPath, pathPrefix: prefix };
}

/** '/' or '/seg(/seg)*' with no trailing '/', and already its own canonical form. */
function isCanonicalPrefix(prefix: string): boolean {
  if (prefix === '/') return true;
  if (prefix.length < 2 || prefix.charCodeAt(prefix.length - 1) === 0x2f) return false;
  const result = canonicalizeTarget(prefix, undefined, kRootOptions);
  return result.ok && result.value.path === prefix && result.value.query === '';
}
