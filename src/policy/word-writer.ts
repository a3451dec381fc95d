/**
 * A growable array of u32 words for building the tree image. Offsets are word indices. Values
 * are stored modulo 2^32 (negative numbers as two's complement), floats as two little-endian
 * words.
 */
export class WordWriter {
  #words: number[] = [];
  readonly #f64 = new Float64Array(1);
  readonly #f64Words = new Uint32Array(this.#f64.buffer);

  get length(): number {
    return this.#words.length;
  }

  /** Reserves `n` zero words; returns the offset of the first. */
  alloc(n: number): number {
    const off = this.#words.length;
    for (let i = 0; i < n; i++) this.#words.push(0);
    return off;
  }

  set(off: number, value: number): void {
    this.#words[off] = value >>> 0;
  }

  /** Appends `values`; returns the offset of the first. */
  push(values: readonly number[]): number {
    const off = this.#words.length;
    for (const v of values) this.#words.push(v >>> 0);
    return off;
  }

  /** Writes a float64 into words off and off+1 (little-endian). */
  setF64(off: number, value: number): void {
    this.#f64[0] = value;
    const isLittle = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
    this.#words[off] = this.#f64Words[isLittle ? 0 : 1]!;
    this.#words[off + 1] = this.#f64Words[isLittle ? 1 : 0]!;
  }

  /** Packs bytes into little-endian words, zero-padded to a whole word. */
  static packBytes(bytes: Uint8Array): number[] {
    const out: number[] = [];
    for (let i = 0; i < bytes.length; i += 4) {
      out.push(((bytes[i] ?? 0) | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16)
        | ((bytes[i + 3] ?? 0) << 24)) >>> 0);
    }
    return out;
  }

  /** The words written. */
  finish(): Uint32Array {
    return Uint32Array.from(this.#words);
  }
}
