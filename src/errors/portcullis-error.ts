import { type ErrorCode, errorSpec } from './codes.js';

const kBrand = Symbol.for('portcullis.error');

/**
 * The one error class of the proxy. `code` is a registry code, so a `switch` narrows it;
 * `detail` is for operators (logs, CLI output) and is never sent to a client.
 * `instanceof` works across duplicate copies of this module through a registered-symbol brand.
 */
export class PortcullisError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail === undefined ? errorSpec(code).message : `${errorSpec(code).message} ${detail}`,
      options);
    this.name = 'PortcullisError';
    this.code = code;
    this.detail = detail;
  }

  /** HTTP status of this error's code. */
  get status(): number {
    return errorSpec(this.code).status;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses keep the ordinary prototype-chain check; only the base class matches by brand.
    if (this !== PortcullisError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null
      && (value as Record<symbol, unknown>)[kBrand] === true;
  }
}

Object.defineProperty(PortcullisError.prototype, kBrand, { value: true });
