/**
 * The decision listener (`listeners.decision`): an ingress (nginx `auth_request`, Traefik
 * `forwardAuth`, Envoy `ext_authz` HTTP) asks it whether a request may pass, and it answers
 * allow or deny without forwarding anything (src/server/README.md, "The decision listener").
 * Optional; `flavor` says which ingress's headers describe the original request, and
 * `trustedIngress` which peers may ask at all (there is no default: anyone else is refused).
 */
import { z } from 'zod';
import {
  bindHost, cidr, customIssue, enumField, listenPort, mapping, pathPrefix,
} from './schema-fields.js';

/** The ingresses whose check requests the decision listener reads. */
export const kDecisionFlavors = ['nginx', 'traefik', 'envoy'] as const;

/** Which ingress's headers describe the original request. */
export type DecisionFlavor = (typeof kDecisionFlavors)[number];

/** Builds the `listeners.decision` block. */
export function decisionListenerSchema() {
  return mapping({
    host: bindHost().default('127.0.0.1'),
    port: listenPort().default(9191),
    flavor: enumField(kDecisionFlavors),
    trustedIngress: z.array(cidr(), { error: 'expected a list of addresses or CIDRs' })
      .min(1, { error: 'expected at least one ingress address: no other peer may ask' }),
    // Envoy's `http_service.path_prefix`: the check path is this prefix plus the original path.
    pathPrefix: pathPrefix().optional(),
  }).superRefine((block, ctx) => {
    if (block.pathPrefix === undefined) return;
    if (block.flavor !== 'envoy') {
      ctx.addIssue(customIssue(`pathPrefix applies to flavor "envoy" only, not "${block.flavor}"`,
        ['pathPrefix']));
    } else if (block.pathPrefix === '/') {
      ctx.addIssue(customIssue('expected a pathPrefix other than "/" (leave it out for none)',
        ['pathPrefix']));
    }
  });
}
