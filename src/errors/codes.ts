/**
 * The error-code registry: every code the proxy can answer with, log or audit.
 *
 * A code is permanent. Never rename or reuse one; retire it by moving it to `kRetiredCodes`.
 * The README's error table is checked against this registry by `test/errors/codes.test.ts`.
 *
 * `status` is the HTTP status a client sees; `reason` is the short token written into the
 * audit record and the `X-Portcullis-Error` response header; `message` is the human sentence
 * sent in the response body (it never carries request data or library text).
 */
export interface ErrorSpec {
  readonly status: number;
  readonly reason: string;
  readonly message: string;
}

export const kErrorCodes = {
  // Request target and canonical path (src/routing/)
  IAM_ROUTING_TARGET_MALFORMED: {
    status: 400,
    reason: 'target_malformed',
    message: 'The request target is not a valid origin-form path.',
  },
  IAM_ROUTING_TARGET_FRAGMENT: {
    status: 400,
    reason: 'target_fragment',
    message: 'A request target must not carry a fragment (#).',
  },
  IAM_ROUTING_ENCODED_SEPARATOR: {
    status: 400,
    reason: 'encoded_separator',
    message: 'Encoded slash or backslash (%2F, %5C) in the path is not accepted.',
  },
  IAM_ROUTING_BACKSLASH: {
    status: 400,
    reason: 'backslash',
    message: 'Backslash in the path is not accepted.',
  },
  IAM_ROUTING_CONTROL_CHARACTER: {
    status: 400,
    reason: 'control_character',
    message: 'Control characters or NUL (raw or percent-encoded) are not accepted in the target.',
  },
  IAM_ROUTING_INVALID_ENCODING: {
    status: 400,
    reason: 'invalid_encoding',
    message: 'The path has a malformed percent-escape or invalid UTF-8.',
  },
  IAM_ROUTING_PATH_ESCAPES_ROOT: {
    status: 400,
    reason: 'path_escapes_root',
    message: 'Dot segments in the path climb above the root.',
  },
  IAM_ROUTING_DUPLICATE_SLASH: {
    status: 400,
    reason: 'duplicate_slash',
    message: 'Empty path segments (//) are not accepted.',
  },
  IAM_ROUTING_SEMICOLON: {
    status: 400,
    reason: 'path_parameter',
    message: 'Path parameters (;) are not accepted.',
  },
  IAM_ROUTING_ABSOLUTE_FORM_FOREIGN: {
    status: 400,
    reason: 'absolute_form_foreign',
    message: 'An absolute-form target must name the same host as the Host header.',
  },
  IAM_ROUTING_URL_TOO_LONG: {
    status: 414,
    reason: 'url_too_long',
    message: 'The request target is longer than the configured limit.',
  },
  IAM_ROUTING_HOST_MISSING: {
    status: 400,
    reason: 'host_missing',
    message: 'The request has no Host header.',
  },
  IAM_ROUTING_HOST_INVALID: {
    status: 400,
    reason: 'host_invalid',
    message: 'The Host header is not a valid host[:port].',
  },
  IAM_ROUTING_HOST_CONFLICT: {
    status: 400,
    reason: 'host_conflict',
    message: 'The request carries more than one Host value.',
  },
  IAM_ROUTING_NO_ROUTE: {
    status: 404,
    reason: 'no_route',
    message: 'No service is registered for this host and path.',
  },
  IAM_ROUTING_METHOD_UNSUPPORTED: {
    status: 405,
    reason: 'method_unsupported',
    message: 'The request method is not accepted by the proxy.',
  },

  // Message framing and limits (src/server/, src/routing/)
  IAM_FRAMING_CONTENT_LENGTH_CONFLICT: {
    status: 400,
    reason: 'content_length_conflict',
    message: 'Duplicate, differing or malformed Content-Length headers.',
  },
  IAM_FRAMING_AMBIGUOUS: {
    status: 400,
    reason: 'framing_ambiguous',
    message: 'Content-Length together with Transfer-Encoding is not accepted.',
  },
  IAM_FRAMING_TRANSFER_ENCODING_UNSUPPORTED: {
    status: 501,
    reason: 'transfer_encoding_unsupported',
    message: 'Only "Transfer-Encoding: chunked" is accepted.',
  },
  IAM_FRAMING_HEADER_INVALID: {
    status: 400,
    reason: 'header_invalid',
    message: 'A header name or value has characters HTTP does not allow.',
  },
  IAM_REQUEST_HEADERS_TOO_LARGE: {
    status: 431,
    reason: 'headers_too_large',
    message: 'The request headers exceed the configured size.',
  },
  IAM_REQUEST_TOO_MANY_HEADERS: {
    status: 431,
    reason: 'too_many_headers',
    message: 'The request carries more headers than the configured limit.',
  },
  IAM_REQUEST_BODY_TOO_LARGE: {
    status: 413,
    reason: 'body_too_large',
    message: "The request body exceeds the service's configured limit.",
  },
  IAM_REQUEST_UPGRADE_UNSUPPORTED: {
    status: 501,
    reason: 'upgrade_unsupported',
    message: 'Protocol upgrades (WebSocket) are not proxied by this version.',
  },
  IAM_REQUEST_CLIENT_ABORTED: {
    status: 499,
    reason: 'client_aborted',
    message: 'The client closed the connection before the response was complete.',
  },
  IAM_REQUEST_EXPECT_UNSUPPORTED: {
    status: 417,
    reason: 'expect_unsupported',
    message: 'Only "Expect: 100-continue" is understood.',
  },

  // Authentication (src/authn/)
  IAM_AUTHN_REQUIRED: {
    status: 401,
    reason: 'authn_required',
    message: 'This route requires an authenticated caller.',
  },
  IAM_AUTHN_TOKEN_MALFORMED: {
    status: 401,
    reason: 'token_malformed',
    message: 'The bearer token is not a well-formed compact JWS.',
  },
  IAM_AUTHN_TOKEN_TOO_LARGE: {
    status: 401,
    reason: 'token_too_large',
    message: 'The bearer token or its header is larger than the configured limit.',
  },
  IAM_AUTHN_ALG_NOT_ALLOWED: {
    status: 401,
    reason: 'alg_not_allowed',
    message: "The token's algorithm is not on the issuer's allow-list.",
  },
  IAM_AUTHN_CRIT_UNSUPPORTED: {
    status: 401,
    reason: 'crit_unsupported',
    message: 'The token names a critical header parameter the proxy does not understand.',
  },
  IAM_AUTHN_ISSUER_UNKNOWN: {
    status: 401,
    reason: 'issuer_unknown',
    message: "The token's issuer is not configured.",
  },
  IAM_AUTHN_KEY_UNKNOWN: {
    status: 401,
    reason: 'key_unknown',
    message: 'No usable key of the issuer matches the token.',
  },
  IAM_AUTHN_SIGNATURE_INVALID: {
    status: 401,
    reason: 'signature_invalid',
    message: "The token's signature does not verify.",
  },
  IAM_AUTHN_TOKEN_EXPIRED: {
    status: 401,
    reason: 'token_expired',
    message: 'The token has expired.',
  },
  IAM_AUTHN_TOKEN_NOT_YET_VALID: {
    status: 401,
    reason: 'token_not_yet_valid',
    message: 'The token is not valid yet.',
  },
  IAM_AUTHN_TOKEN_TOO_OLD: {
    status: 401,
    reason: 'token_too_old',
    message: 'The token was issued longer ago than the issuer allows.',
  },
  IAM_AUTHN_AUDIENCE_MISMATCH: {
    status: 401,
    reason: 'audience_mismatch',
    message: 'The token is not meant for this audience.',
  },
  IAM_AUTHN_CLAIM_INVALID: {
    status: 401,
    reason: 'claim_invalid',
    message: 'A required claim is missing or has the wrong type.',
  },
  IAM_AUTHN_TYPE_MISMATCH: {
    status: 401,
    reason: 'type_mismatch',
    message: "The token's typ header is not the one the issuer requires.",
  },
  IAM_AUTHN_TOKEN_INACTIVE: {
    status: 401,
    reason: 'token_inactive',
    message: 'The token is not active according to its issuer (RFC 7662 introspection).',
  },
  IAM_AUTHN_INTROSPECTION_FAILED: {
    status: 503,
    reason: 'introspection_failed',
    message: 'The token issuer could not be asked whether the token is active.',
  },
  IAM_AUTHN_KEYS_UNAVAILABLE: {
    status: 503,
    reason: 'keys_unavailable',
    message: "The issuer's signing keys could not be loaded.",
  },
  IAM_AUTHN_VERIFIER_OVERLOADED: {
    status: 503,
    reason: 'verifier_overloaded',
    message: 'The signature verification pool is saturated.',
  },
  IAM_AUTHN_VERIFIER_FAILED: {
    status: 500,
    reason: 'verifier_failed',
    message: 'The signature verification pool failed.',
  },
  IAM_AUTHN_CERTIFICATE_INVALID: {
    status: 401,
    reason: 'certificate_invalid',
    message: 'The client certificate carries a name that cannot be used safely.',
  },
  IAM_AUTHN_CERTIFICATE_AMBIGUOUS: {
    status: 401,
    reason: 'certificate_ambiguous',
    message: 'The client certificate carries more than one SPIFFE ID.',
  },
  IAM_AUTHN_CERTIFICATE_EXPIRED: {
    status: 401,
    reason: 'certificate_expired',
    message: 'The client certificate expired while its connection stayed open.',
  },
  IAM_AUTHN_FORWARDED_CERT_INVALID: {
    status: 401,
    reason: 'forwarded_cert_invalid',
    message: 'The X-Forwarded-Client-Cert header from a trusted proxy could not be read.',
  },

  // Authorization (src/authz/): policy decisions and the evaluator
  IAM_AUTHZ_DENIED: {
    status: 403,
    reason: 'denied',
    message: 'The policy does not allow this request.',
  },
  IAM_AUTHZ_REQUEST_LIMITS: {
    status: 403,
    reason: 'authz_request_limits',
    message: 'The request has more path segments, scopes, groups or attribute bytes than policy evaluation accepts.',
  },
  IAM_AUTHZ_NO_POLICY: {
    status: 503,
    reason: 'no_policy',
    message: 'No policy bundle is active yet.',
  },
  IAM_AUTHZ_EVALUATOR_FAILED: {
    status: 500,
    reason: 'evaluator_failed',
    message: 'The policy evaluator failed on this request.',
  },

  // Policy bundles (src/policy/, src/control/); raised on load and swap, never per request
  IAM_BUNDLE_MALFORMED: {
    status: 500,
    reason: 'bundle_malformed',
    message: 'The policy bundle is not a valid bundle.',
  },
  IAM_BUNDLE_VERSION_UNSUPPORTED: {
    status: 500,
    reason: 'bundle_version_unsupported',
    message: 'The policy bundle uses a schema or layout version this build does not know.',
  },
  IAM_BUNDLE_SIGNATURE_MISSING: {
    status: 500,
    reason: 'bundle_unsigned',
    message: 'The policy bundle has no signature.',
  },
  IAM_BUNDLE_SIGNATURE_INVALID: {
    status: 500,
    reason: 'bundle_signature_invalid',
    message: 'The policy bundle signature does not verify with any configured key.',
  },
  IAM_BUNDLE_VERSION_OLDER: {
    status: 500,
    reason: 'bundle_older',
    message: 'The policy bundle is not newer than the active one.',
  },
  IAM_BUNDLE_SOURCE_FAILED: {
    status: 500,
    reason: 'bundle_source_failed',
    message: 'The policy bundle could not be fetched from its source.',
  },
  IAM_POLICY_COMPILE_FAILED: {
    status: 500,
    reason: 'policy_compile_failed',
    message: 'The policy sources have errors.',
  },

  // Upstream (src/upstream/)
  IAM_UPSTREAM_CONNECT_FAILED: {
    status: 502,
    reason: 'upstream_connect_failed',
    message: 'The upstream service refused or dropped the connection.',
  },
  IAM_UPSTREAM_CONNECT_TIMEOUT: {
    status: 504,
    reason: 'upstream_connect_timeout',
    message: 'The upstream service did not accept a connection in time.',
  },
  IAM_UPSTREAM_HEADERS_TIMEOUT: {
    status: 504,
    reason: 'upstream_headers_timeout',
    message: 'The upstream service did not answer in time.',
  },
  IAM_UPSTREAM_BODY_TIMEOUT: {
    status: 504,
    reason: 'upstream_body_timeout',
    message: 'The upstream service stalled while sending its response.',
  },
  IAM_UPSTREAM_RESET: {
    status: 502,
    reason: 'upstream_reset',
    message: 'The upstream connection closed before the response was complete.',
  },
  IAM_UPSTREAM_RESPONSE_MALFORMED: {
    status: 502,
    reason: 'upstream_malformed',
    message: 'The upstream response was malformed or ambiguous.',
  },
  IAM_UPSTREAM_UNAVAILABLE: {
    status: 503,
    reason: 'upstream_unavailable',
    message: 'No upstream address can take the request now.',
  },

  // Audit and revocation (src/audit/)
  IAM_AUTHN_REVOKED: {
    status: 401,
    reason: 'revoked',
    message: 'The credential has been revoked.',
  },
  IAM_AUDIT_OVERLOADED: {
    status: 503,
    reason: 'audit_overloaded',
    message: 'The audit log cannot keep up; the request was not served.',
  },
  IAM_REVOCATION_STORE_UNAVAILABLE: {
    status: 500,
    reason: 'revocation_store_unavailable',
    message: 'The shared revocation store could not be reached at start-up.',
  },

  // Browser login and sessions (src/login/)
  IAM_LOGIN_STATE_MISSING: {
    status: 400,
    reason: 'login_state_missing',
    message: 'The login callback came without this browser\'s login cookie, or it expired.',
  },
  IAM_LOGIN_STATE_MISMATCH: {
    status: 400,
    reason: 'login_state_mismatch',
    message: 'The login callback\'s state does not match this browser\'s login.',
  },
  IAM_LOGIN_CALLBACK_INVALID: {
    status: 400,
    reason: 'login_callback_invalid',
    message: 'The login callback is malformed or names another issuer.',
  },
  IAM_LOGIN_IDP_REFUSED: {
    status: 401,
    reason: 'login_refused',
    message: 'The identity provider did not complete the login.',
  },
  IAM_LOGIN_CODE_REFUSED: {
    status: 401,
    reason: 'login_code_refused',
    message: 'The identity provider refused the authorization code.',
  },
  IAM_LOGIN_ID_TOKEN_INVALID: {
    status: 401,
    reason: 'login_id_token_invalid',
    message: 'The identity provider\'s ID token did not verify.',
  },
  IAM_LOGIN_NONCE_MISMATCH: {
    status: 401,
    reason: 'login_nonce_mismatch',
    message: 'The ID token\'s nonce does not match this browser\'s login.',
  },
  IAM_LOGIN_CLIENT_AUTH_FAILED: {
    status: 502,
    reason: 'login_client_auth_failed',
    message: 'The identity provider refused the proxy\'s client credentials.',
  },
  IAM_LOGIN_IDP_UNAVAILABLE: {
    status: 502,
    reason: 'login_idp_unavailable',
    message: 'The identity provider\'s token endpoint could not be used.',
  },
  IAM_LOGIN_REDIRECT_REFUSED: {
    status: 400,
    reason: 'redirect_refused',
    message: 'The redirect target is neither on this origin nor on the allow-list.',
  },
  IAM_LOGIN_INSECURE_TRANSPORT: {
    status: 400,
    reason: 'login_insecure_transport',
    message: 'Browser login needs HTTPS between the browser and the proxy.',
  },
  IAM_LOGIN_SESSION_STORE_UNAVAILABLE: {
    status: 503,
    reason: 'session_store_unavailable',
    message: 'The session store could not be reached.',
  },
  IAM_LOGIN_DISCOVERY_FAILED: {
    status: 500,
    reason: 'login_discovery_failed',
    message: 'The login issuer\'s discovery document could not be used.',
  },

  // Server lifecycle (src/server/)
  IAM_SERVER_DRAINING: {
    status: 503,
    reason: 'draining',
    message: 'The proxy is shutting down.',
  },
  IAM_SERVER_INTERNAL: {
    status: 500,
    reason: 'internal',
    message: 'The proxy could not decide on this request.',
  },

  // Decision API (src/server/decision-*.ts): checks asked by an ingress (nginx, Envoy, Traefik)
  IAM_DECISION_PEER_UNTRUSTED: {
    status: 403,
    reason: 'decision_peer_untrusted',
    message: 'The decision API answers only the configured ingress addresses.',
  },
  IAM_DECISION_ORIGINAL_MISSING: {
    status: 400,
    reason: 'original_missing',
    message: 'The check request lacks the original method, URI, host or client address.',
  },
  IAM_DECISION_ORIGINAL_INVALID: {
    status: 400,
    reason: 'original_invalid',
    message: 'A header describing the original request is repeated, malformed or contradictory.',
  },
  IAM_DECISION_PATH_PREFIX_MISMATCH: {
    status: 400,
    reason: 'path_prefix_mismatch',
    message: 'The check request path does not start with the configured path prefix.',
  },
  IAM_DECISION_BODY_UNSUPPORTED: {
    status: 400,
    reason: 'decision_body_unsupported',
    message: 'A check request must not carry a body.',
  },

  // Configuration and start-up (src/config/, src/server/); raised before serving, never per request
  IAM_CONFIG_INVALID: {
    status: 500,
    reason: 'config_invalid',
    message: 'The configuration file is not valid.',
  },
  IAM_CONFIG_UNREADABLE: {
    status: 500,
    reason: 'config_unreadable',
    message: 'The configuration file could not be read.',
  },
  IAM_CONFIG_SECRET_UNRESOLVED: {
    status: 500,
    reason: 'secret_unresolved',
    message: 'A secret referenced by the configuration could not be resolved.',
  },
  IAM_SERVER_LISTEN_FAILED: {
    status: 500,
    reason: 'listen_failed',
    message: 'A listener could not bind its address.',
  },
  IAM_SERVER_UWS_FALLBACK: {
    status: 500,
    reason: 'uws_fallback',
    message: 'The native uWebSockets.js build did not load; refusing the slow fallback.',
  },
  IAM_SERVER_THREAD_FAILED: {
    status: 500,
    reason: 'thread_failed',
    message: 'A serving thread could not start.',
  },
} as const satisfies Record<string, ErrorSpec>;

/** Every live error code, as a string union so a `switch` on `err.code` narrows. */
export type ErrorCode = keyof typeof kErrorCodes;

/** Codes that must never be issued again. Kept so a reuse is caught by the registry test. */
export const kRetiredCodes: readonly string[] = [];

/** Look up the spec of a code. */
export function errorSpec(code: ErrorCode): ErrorSpec {
  return kErrorCodes[code];
}
