/**
 * Writes one request into the evaluator's request block (layout: assembly/README.md).
 *
 * Strings become ids through the bundle's string table. Path segments and attribute values that
 * the table does not hold get ids from a reserved range above it, numbered per request in order of
 * first appearance, so two equal unknown strings (a tenant claim and a path segment) get the same
 * id and compare equal, while no unknown string equals a table string. Fields compared only with
 * table strings get the single reserved `kUnknownId`. The encoder allocates nothing per request
 * except when a header repeats (its values are joined with ", ", RFC 9110 section 5.3).
 */
import type { DecodedBundle } from '../policy/index.js';
import { parseIpInto } from '../policy/ip-address.js';
import { kTreeFlags, kKindCode } from '../policy/tree-layout.js';
import { kMem, kMemLimits, kUnknownId } from './memory-layout.js';
import type { AuthzRequest } from './request.js';

/** Most distinct unknown strings one request can bring (segments plus attribute slots). */
const kMaxDynamic = kMemLimits.segments + 512;

/** Encodes requests for one bundle into one instance's memory. */
export class RequestEncoder {
  readonly #ids: Map<string, number>;
  readonly #dynamicBase: number;
  readonly #dynamic: string[] = new Array<string>(kMaxDynamic).fill('');
  #dynamicCount = 0;
  readonly #u8: Uint8Array;
  readonly #u32: Uint32Array;
  readonly #f64: Float64Array;
  readonly #claimSlots: { readonly slot: number; readonly name: string; readonly needsBytes: boolean }[];
  readonly #headerSlots: Map<string, { readonly slot: number; readonly needsBytes: boolean }>;
  readonly #headerValues: (string | undefined)[];
  readonly #needsAddress: boolean;
  readonly #encoder = new TextEncoder();
  #bytesUsed = 0;

  /** `memory` is the instance's memory buffer after it has grown to hold the tree. */
  constructor(bundle: DecodedBundle, memory: ArrayBuffer) {
    this.#ids = new Map(bundle.strings.map((s, i) => [s, i]));
    this.#dynamicBase = bundle.strings.length;
    this.#u8 = new Uint8Array(memory);
    this.#u32 = new Uint32Array(memory);
    this.#f64 = new Float64Array(memory);
    this.#claimSlots = [];
    this.#headerSlots = new Map();
    bundle.attributes.forEach((a, slot) => {
      if (a.source === 'claim') this.#claimSlots.push({ slot, name: a.name, needsBytes: a.needsBytes });
      else this.#headerSlots.set(a.name, { slot, needsBytes: a.needsBytes });
    });
    this.#headerValues = new Array<string | undefined>(bundle.attributes.length).fill(undefined);
    this.#needsAddress = (bundle.tree[7]! & kTreeFlags.address) !== 0;
  }

  #fixed(s: string | undefined): number {
    if (s === undefined || s === '') return 0;
    return this.#ids.get(s) ?? kUnknownId;
  }

  #dynamicId(s: string): number {
    const known = this.#ids.get(s);
    if (known !== undefined) return known;
    const dyn = this.#dynamic;
    for (let i = 0; i < this.#dynamicCount; i++) if (dyn[i] === s) return this.#dynamicBase + i;
    dyn[this.#dynamicCount] = s;
    return this.#dynamicBase + this.#dynamicCount++;
  }

  /** Copies `s` as UTF-8 into the byte area; false when the area is full. */
  #writeBytes(slot: number, s: string): boolean {
    const start = this.#bytesUsed;
    const room = kMemLimits.bytes - start;
    const base = kMem.bytes + start;
    let n = s.length;
    let isAscii = n <= room;
    for (let i = 0; isAscii && i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) isAscii = false;
      else this.#u8[base + i] = c;
    }
    if (!isAscii) {
      const r = this.#encoder.encodeInto(s, this.#u8.subarray(base, base + room));
      if (r.read !== s.length) return false;
      n = r.written;
    }
    this.#bytesUsed = start + n;
    this.#u32[(kMem.attrSpans >> 2) + slot * 2] = start;
    this.#u32[(kMem.attrSpans >> 2) + slot * 2 + 1] = n;
    return true;
  }

  #writeAttribute(slot: number, value: string | undefined, needsBytes: boolean): boolean {
    if (value === undefined || value === '') {
      this.#u32[(kMem.attrs >> 2) + slot] = 0;
      return true;
    }
    this.#u32[(kMem.attrs >> 2) + slot] = this.#dynamicId(value);
    return !needsBytes || this.#writeBytes(slot, value);
  }

  /** Writes `req`; false when it exceeds the evaluator's limits (the caller refuses it). */
  encode(req: AuthzRequest): boolean {
    const u32 = this.#u32;
    const p = req.principal;
    this.#dynamicCount = 0;
    this.#bytesUsed = 0;

    // Step 1: fixed fields.
    u32[kMem.service >> 2] = this.#fixed(req.service);
    u32[kMem.method >> 2] = this.#fixed(req.method);
    u32[kMem.kind >> 2] = kKindCode[p.kind];
    u32[kMem.subject >> 2] = this.#fixed(p.subject);
    u32[kMem.client >> 2] = this.#fixed(p.clientId);
    u32[kMem.spiffe >> 2] = this.#fixed(p.certificate?.spiffeId);
    this.#f64[kMem.nowMs >> 3] = req.nowMs;

    // Step 2: path segments (the path starts with "/"; "/" itself is one empty segment).
    const path = req.path;
    let count = 0;
    let start = 1;
    for (;;) {
      const end = path.indexOf('/', start);
      if (count === kMemLimits.segments) return false;
      const seg = end < 0 ? path.slice(start) : path.slice(start, end);
      u32[(kMem.segs >> 2) + count++] = seg === '' ? 0 : this.#dynamicId(seg);
      if (end < 0) break;
      start = end + 1;
    }
    u32[kMem.segCount >> 2] = count;

    // Step 3: scopes and groups.
    const { scopes, groups } = p;
    if (scopes.length > kMemLimits.scopes || groups.length > kMemLimits.groups) return false;
    for (let i = 0; i < scopes.length; i++) u32[(kMem.scopes >> 2) + i] = this.#fixed(scopes[i]);
    u32[kMem.scopeCount >> 2] = scopes.length;
    for (let i = 0; i < groups.length; i++) u32[(kMem.groups >> 2) + i] = this.#fixed(groups[i]);
    u32[kMem.groupCount >> 2] = groups.length;

    // Step 4: the claims and headers conditions read.
    for (const c of this.#claimSlots) {
      // Own properties only: a claim named "constructor" must not read Object.prototype.
      const value = Object.hasOwn(p.attributes, c.name) ? p.attributes[c.name] : undefined;
      if (!this.#writeAttribute(c.slot, typeof value === 'string' ? value : undefined, c.needsBytes)) {
        return false;
      }
    }
    if (this.#headerSlots.size > 0) {
      const values = this.#headerValues;
      const h = req.headers;
      for (let i = 0; i < h.length; i += 2) {
        const s = this.#headerSlots.get(h[i]!);
        if (s === undefined) continue;
        const prev = values[s.slot];
        values[s.slot] = prev === undefined ? h[i + 1]! : `${prev}, ${h[i + 1]!}`;
      }
      let ok = true;
      for (const [, s] of this.#headerSlots) {
        ok = this.#writeAttribute(s.slot, values[s.slot], s.needsBytes) && ok;
        values[s.slot] = undefined;
      }
      if (!ok) return false;
    }

    // Step 5: the source address, only when a CIDR condition reads it.
    if (this.#needsAddress) {
      u32[kMem.hasAddress >> 2] = parseIpInto(req.sourceAddress, this.#u8, kMem.address) ? 1 : 0;
    }
    return true;
  }
}
