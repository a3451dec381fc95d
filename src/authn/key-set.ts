import type { JWK } from 'jose';
/** One issuer's public verification keys at one version. `version` increases on every change; keys never carry private members. */
export interface IssuerKeySet { readonly issuer: string; readonly version: number; readonly keys: readonly JWK[] }
