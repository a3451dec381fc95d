/**
 * The decision-tree walk in TypeScript: the same algorithm as `assembly/eval.ts`, over the same
 * tree image and the same request encoding, run by V8 instead of WebAssembly. It exists to answer
 * "is WASM faster than a well-written TypeScript evaluator?" with a measurement (bench/micro/authz)
 * and is held to the reference evaluator by the same property test as the WASM engine. Kept whole
 * in one file, like the evaluator it mirrors.
 */
import type { DecodedBundle } from '../policy/index.js';
import { kMem } from './memory-layout.js';
import { RequestEncoder } from './request-encoder.js';
import type { AuthzRequest } from './request.js';

const kNone = 0x7fffffff;
const kMsPerDay = 86_400_000;

/** Evaluates one bundle's tree image in JavaScript; returns the same codes as `evaluate()`. */
export class TreeWalker {
  readonly #t: Uint32Array;
  readonly #u8: Uint8Array;
  readonly #u32: Uint32Array;
  readonly #f64: Float64Array;
  readonly #treeBytes: Uint8Array;
  readonly #treeF64: DataView;
  readonly #encoder: RequestEncoder;
  #bestDeny = kNone;
  #bestAllow = kNone;
  #rolesReady = false;
  readonly #roles: Uint32Array;

  constructor(bundle: DecodedBundle) {
    const memory = new ArrayBuffer(kMem.tree);
    this.#t = bundle.tree;
    this.#u8 = new Uint8Array(memory);
    this.#u32 = new Uint32Array(memory);
    this.#f64 = new Float64Array(memory);
    this.#treeBytes = new Uint8Array(bundle.tree.buffer, bundle.tree.byteOffset, bundle.tree.byteLength);
    this.#treeF64 = new DataView(bundle.tree.buffer, bundle.tree.byteOffset, bundle.tree.byteLength);
    this.#encoder = new RequestEncoder(bundle, memory);
    this.#roles = new Uint32Array(2048);
  }

  /** Encodes `req` and walks the tree; -1 when the request exceeds the limits. */
  decide(req: AuthzRequest): number {
    if (!this.#encoder.encode(req)) return -1;
    return this.#evaluate();
  }

  #req(offset: number): number {
    return this.#u32[offset >> 2]!;
  }

  #findPair(pairs: number, count: number, key: number): number {
    const t = this.#t;
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const k = t[pairs + mid * 2]!;
      if (k === key) return t[pairs + mid * 2 + 1]!;
      if (k < key) lo = mid + 1;
      else hi = mid;
    }
    return 0;
  }

  #contains(base: number, count: number, id: number): boolean {
    const u32 = this.#u32;
    for (let i = 0; i < count; i++) if (u32[(base >> 2) + i] === id) return true;
    return false;
  }

  #assign(kind: number, value: number): void {
    const t = this.#t;
    const table = t[6]!;
    let lo = 0;
    let hi = t[table]!;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = table + 1 + mid * 3;
      const k = t[e]!;
      const v = t[e + 1]!;
      if (k === kind && v === value) {
        const list = t[e + 2]!;
        for (let i = 1; i <= t[list]!; i++) {
          const r = t[list + i]!;
          this.#roles[r >> 5] = this.#roles[r >> 5]! | (1 << (r & 31));
        }
        return;
      }
      if (k < kind || (k === kind && v < value)) lo = mid + 1;
      else hi = mid;
    }
  }

  #ensureRoles(): void {
    if (this.#rolesReady) return;
    this.#rolesReady = true;
    this.#roles.fill(0, 0, (this.#t[5]! + 31) >> 5);
    this.#assign(6, this.#req(kMem.kind));
    if (this.#req(kMem.subject) !== 0) this.#assign(4, this.#req(kMem.subject));
    if (this.#req(kMem.client) !== 0) this.#assign(3, this.#req(kMem.client));
    if (this.#req(kMem.spiffe) !== 0) this.#assign(5, this.#req(kMem.spiffe));
    for (let i = 0; i < this.#req(kMem.scopeCount); i++) this.#assign(2, this.#u32[(kMem.scopes >> 2) + i]!);
    for (let i = 0; i < this.#req(kMem.groupCount); i++) this.#assign(1, this.#u32[(kMem.groups >> 2) + i]!);
  }

  #subjects(off: number): boolean {
    if (off === 0) return true;
    const t = this.#t;
    const kind = this.#req(kMem.kind);
    for (let i = 0; i < t[off]!; i++) {
      const op = t[off + 1 + i * 2]!;
      const arg = t[off + 2 + i * 2]!;
      let hit: boolean;
      switch (op) {
        case 2: hit = kind !== 3; break;
        case 3: hit = kind === 3; break;
        case 4:
          this.#ensureRoles();
          hit = (this.#roles[arg >> 5]! & (1 << (arg & 31))) !== 0;
          break;
        case 5: hit = arg !== 0 && this.#req(kMem.subject) === arg; break;
        case 6: hit = arg !== 0 && this.#contains(kMem.scopes, this.#req(kMem.scopeCount), arg); break;
        case 7: hit = arg !== 0 && this.#req(kMem.client) === arg; break;
        case 8: hit = arg !== 0 && this.#contains(kMem.groups, this.#req(kMem.groupCount), arg); break;
        case 9: hit = arg !== 0 && this.#req(kMem.spiffe) === arg; break;
        case 10: hit = kind === arg; break;
        default: hit = true;
      }
      if (hit) return true;
    }
    return false;
  }

  #attr(slot: number): number {
    return this.#u32[(kMem.attrs >> 2) + slot]!;
  }

  #condition(off: number): boolean {
    const t = this.#t;
    switch (t[off]) {
      case 1:
      case 2: {
        const isAll = t[off] === 1;
        for (let i = 0; i < t[off + 1]!; i++) if (this.#condition(t[off + 2 + i]!) !== isAll) return !isAll;
        return isAll;
      }
      case 3: return !this.#condition(t[off + 1]!);
      case 4: {
        const v = this.#attr(t[off + 1]!);
        return v !== 0 && v === t[off + 2];
      }
      case 5: {
        const v = this.#attr(t[off + 1]!);
        if (v === 0) return false;
        for (let i = 0; i < t[off + 2]!; i++) if (t[off + 3 + i] === v) return true;
        return false;
      }
      case 6: {
        const slot = t[off + 1]!;
        if (this.#attr(slot) === 0) return false;
        const start = this.#u32[(kMem.attrSpans >> 2) + slot * 2]!;
        const len = this.#u32[(kMem.attrSpans >> 2) + slot * 2 + 1]!;
        const plen = t[off + 2]!;
        if (len < plen) return false;
        const prefix = (off + 3) * 4;
        for (let i = 0; i < plen; i++) {
          if (this.#u8[kMem.bytes + start + i] !== this.#treeBytes[prefix + i]) return false;
        }
        return true;
      }
      case 7: {
        const v = this.#attr(t[off + 1]!);
        return v !== 0 && v === this.#u32[(kMem.segs >> 2) + t[off + 2]!];
      }
      case 8: return this.#cidr(off);
      case 9: return this.#time(off);
      default: return false;
    }
  }

  #cidr(off: number): boolean {
    if (this.#req(kMem.hasAddress) === 0) return false;
    const t = this.#t;
    for (let r = 0; r < t[off + 1]!; r++) {
      const range = off + 2 + r * 5;
      const bits = t[range + 4]!;
      const base = range * 4;
      const full = bits >> 3;
      let ok = true;
      for (let i = 0; ok && i < full; i++) ok = this.#u8[kMem.address + i] === this.#treeBytes[base + i];
      const rest = bits & 7;
      if (ok && rest !== 0) {
        const mask = (0xff00 >> rest) & 0xff;
        ok = (this.#u8[kMem.address + full]! & mask) === this.#treeBytes[base + full];
      }
      if (ok) return true;
    }
    return false;
  }

  #time(off: number): boolean {
    const t = this.#t;
    const now = this.#f64[kMem.nowMs >> 3]!;
    if (now < this.#treeF64.getFloat64((off + 5) * 4, true)
      || now >= this.#treeF64.getFloat64((off + 7) * 4, true)) return false;
    const local = now + (t[off + 4]! | 0) * 60_000;
    const days = Math.floor(local / kMsPerDay);
    const weekday = (((days % 7) + 11) % 7);
    if ((t[off + 1]! & (1 << weekday)) === 0) return false;
    const minute = Math.floor((local - days * kMsPerDay) / 60_000);
    const from = t[off + 2]!;
    const to = t[off + 3]!;
    if (from === 0 && to === 0) return true;
    return from < to ? minute >= from && minute < to : minute >= from || minute < to;
  }

  #tryList(list: number): void {
    const t = this.#t;
    for (let i = 1; i <= t[list]!; i++) {
      const body = t[list + i]!;
      const index = t[body]!;
      const isDeny = t[body + 1] === 0;
      if (isDeny) {
        if (index >= this.#bestDeny) return;
      } else if (this.#bestDeny !== kNone || index >= this.#bestAllow) {
        return;
      }
      if (!this.#subjects(t[body + 2]!)) continue;
      const cond = t[body + 3]!;
      if (cond !== 0 && !this.#condition(cond)) continue;
      if (isDeny) this.#bestDeny = index;
      else this.#bestAllow = index;
      return;
    }
  }

  #walk(node: number, depth: number, count: number): void {
    const t = this.#t;
    if (t[node + 4] !== 0) this.#tryList(t[node + 4]!);
    if (depth === count) {
      if (t[node + 3] !== 0) this.#tryList(t[node + 3]!);
      return;
    }
    const seg = this.#u32[(kMem.segs >> 2) + depth]!;
    if (t[node] !== 0) {
      const child = this.#findPair(t[node + 1]!, t[node]!, seg);
      if (child !== 0) this.#walk(child, depth + 1, count);
    }
    if (t[node + 2] !== 0 && seg !== 0) this.#walk(t[node + 2]!, depth + 1, count);
  }

  #evaluate(): number {
    const t = this.#t;
    this.#bestDeny = kNone;
    this.#bestAllow = kNone;
    this.#rolesReady = false;
    let service = this.#req(kMem.service);
    if (service > t[3]!) service = 0;
    const methods = t[t[4]! + service]!;
    if (methods !== 0) {
      let trie = this.#findPair(methods + 2, t[methods]!, this.#req(kMem.method));
      if (trie === 0) trie = t[methods + 1]!;
      if (trie !== 0) this.#walk(trie, 0, this.#req(kMem.segCount));
    }
    if (this.#bestDeny !== kNone) return (this.#bestDeny + 1) << 1;
    if (this.#bestAllow !== kNone) return ((this.#bestAllow + 1) << 1) | 1;
    return 0;
  }
}
