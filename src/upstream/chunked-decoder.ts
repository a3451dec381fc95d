/**
 * Incremental decoder of the chunked transfer coding (RFC 9112 section 7.1).
 *
 * Chunk data is handed on as `subarray` views of the socket's buffers (no copy). Size lines,
 * extensions and trailers are walked octet by octet through a small state machine: they are a
 * few octets per chunk, and the state must survive any split of the input. Every line is bounded
 * and any deviation from the grammar is malformed; nothing is skipped or guessed.
 */
import { kHexValues, kTokenOctets, kValueOctets } from './field-syntax.js';

/** Receives decoded data; returning false asks the decoder to stop (pause or abort). */
export interface ChunkSink {
  onResponseBody(chunk: Buffer): boolean;
}

/** `execute` results. */
export const kChunkNeedMore = 0;
export const kChunkPaused = 1;
export const kChunkDone = 2;
export const kChunkMalformed = 3;

// A size line holds at most 16 hex digits (leading zeros included) and a value of at most 2^48;
// this refuses overflow long before a JS number loses precision.
const kMaxSizeDigits = 16;
const kMaxChunkSize = 2 ** 48;
// Extensions are ignored but bounded, per size line.
const kMaxExtensionBytes = 1024;

// Module-local constants and aliases: loops re-load imported bindings on every octet (ESM live
// bindings are not hoisted).
const kCR = 0x0d;
const kLF = 0x0a;
const kHTAB = 0x09;
const kSP = 0x20;
const kHex = kHexValues;
const kToken = kTokenOctets;
const kValue = kValueOctets;

const kSize = 0;
const kSizeWhitespace = 1;
const kExtension = 2;
const kSizeLF = 3;
const kData = 4;
const kDataCR = 5;
const kDataLF = 6;
const kTrailerStart = 7;
const kTrailerName = 8;
const kTrailerValue = 9;
const kTrailerLF = 10;
const kFinalLF = 11;
const kFinished = 12;

/** One chunked body's decoding state. Reset it with `start()` before each response. */
export class ChunkedDecoder {
  /** Index in the last `execute` input just past what was consumed (for paused/done). */
  pos = 0;
  #state = kSize;
  #size = 0;
  #digits = 0;
  #lineBytes = 0;
  #trailerBytes = 0;
  #maxTrailerBytes = 0;

  /** Prepares for a new body; the trailer section may hold `maxTrailerBytes` octets at most. */
  start(maxTrailerBytes: number): void {
    this.#state = kSize;
    this.#size = 0;
    this.#digits = 0;
    this.#lineBytes = 0;
    this.#trailerBytes = 0;
    this.#maxTrailerBytes = maxTrailerBytes;
  }

  /**
   * Decodes `input[start..]`, handing data to `sink`. Returns kChunkNeedMore when all input was
   * consumed, kChunkPaused when the sink returned false, kChunkDone after the trailer section's
   * final CRLF (`pos` says where: later octets are not part of this response), or kChunkMalformed.
   */
  execute(input: Buffer, start: number, sink: ChunkSink): number {
    const length = input.length;
    let i = start;
    while (i < length) {
      const state = this.#state;

      if (state === kData) {
        const take = Math.min(this.#size, length - i);
        this.#size -= take;
        if (this.#size === 0) this.#state = kDataCR;
        const data = input.subarray(i, i + take);
        i += take;
        if (!sink.onResponseBody(data)) {
          this.pos = i;
          return kChunkPaused;
        }
        continue;
      }

      const c = input[i++]!;
      if (state >= kTrailerStart && ++this.#trailerBytes > this.#maxTrailerBytes) {
        return kChunkMalformed;
      }
      switch (state) {
        case kSize: {
          const digit = kHex[c]!;
          if (digit >= 0) {
            this.#size = this.#size * 16 + digit;
            if (++this.#digits > kMaxSizeDigits || this.#size > kMaxChunkSize) {
              return kChunkMalformed;
            }
          } else if (this.#digits === 0) return kChunkMalformed;
          else if (c === kCR) this.#state = kSizeLF;
          else if (c === 0x3b) this.#state = kExtension;
          else if (c === kSP || c === kHTAB) this.#state = kSizeWhitespace;
          else return kChunkMalformed;
          break;
        }
        case kSizeWhitespace:
          // BWS is only allowed before ";" (chunk-ext = *( BWS ";" ... )).
          if (++this.#lineBytes > kMaxExtensionBytes) return kChunkMalformed;
          if (c === 0x3b) this.#state = kExtension;
          else if (c !== kSP && c !== kHTAB) return kChunkMalformed;
          break;
        case kExtension:
          // Names, values and quoted strings are not interpreted; any field-value octet passes.
          if (++this.#lineBytes > kMaxExtensionBytes) return kChunkMalformed;
          if (c === kCR) this.#state = kSizeLF;
          else if (kValue[c] === 0) return kChunkMalformed;
          break;
        case kSizeLF:
          if (c !== kLF) return kChunkMalformed;
          this.#state = this.#size === 0 ? kTrailerStart : kData;
          this.#digits = 0;
          this.#lineBytes = 0;
          break;
        case kDataCR:
          if (c !== kCR) return kChunkMalformed;
          this.#state = kDataLF;
          break;
        case kDataLF:
          if (c !== kLF) return kChunkMalformed;
          this.#state = kSize;
          break;
        case kTrailerStart:
          // An empty line ends the trailer section; a leading SP/HTAB (obs-fold) is not a token.
          if (c === kCR) this.#state = kFinalLF;
          else if (kToken[c] === 1) this.#state = kTrailerName;
          else return kChunkMalformed;
          break;
        case kTrailerName:
          if (c === 0x3a) this.#state = kTrailerValue;
          else if (kToken[c] === 0) return kChunkMalformed;
          break;
        case kTrailerValue:
          if (c === kCR) this.#state = kTrailerLF;
          else if (kValue[c] === 0) return kChunkMalformed;
          break;
        case kTrailerLF:
          if (c !== kLF) return kChunkMalformed;
          this.#state = kTrailerStart;
          break;
        case kFinalLF:
          if (c !== kLF) return kChunkMalformed;
          this.#state = kFinished;
          this.pos = i;
          return kChunkDone;
        default:
          return kChunkMalformed;
      }
    }
    this.pos = length;
    return kChunkNeedMore;
  }
}
