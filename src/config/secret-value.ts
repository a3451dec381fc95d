/**
 * The wrapper every resolved secret lives in, so that a secret can only leave the process on
 * purpose: printing, string interpolation, JSON and `util.inspect` all show '[redacted]', and
 * only `.reveal()` hands out the text.
 */
import { inspect } from 'node:util';

const kRedacted = '[redacted]';

/**
 * A resolved secret (token, passphrase). The text is held in a private field, so spreading,
 * `structuredClone` and `Object.keys` never see it either. Instances are immutable.
 */
export class SecretValue {
  readonly #text: string;

  /** `text` must be non-empty; the loader has already checked that. */
  constructor(text: string) {
    this.#text = text;
    Object.freeze(this);
  }

  /** The secret itself. Call it at the point of use, and never pass the result to a logger. */
  reveal(): string {
    return this.#text;
  }

  /** Always '[redacted]'. */
  toString(): string {
    return kRedacted;
  }

  /** Always '[redacted]', so `JSON.stringify` of a config is safe to log. */
  toJSON(): string {
    return kRedacted;
  }

  /** Always '[redacted]', so template literals and `+` are safe too. */
  [Symbol.toPrimitive](): string {
    return kRedacted;
  }

  /** Always '[redacted]', for `console.log` and `util.inspect`. */
  [inspect.custom](): string {
    return kRedacted;
  }
}

/** The text every secret is replaced with in output. */
export const kRedactedText = kRedacted;
