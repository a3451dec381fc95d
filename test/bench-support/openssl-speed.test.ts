import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { parseHmacSpeed, parseSignatureSpeed } from '../../bench/suite/openssl-speed.js';

/** `openssl speed -seconds 1 rsa2048 ecdsap256 ed25519` stdout, OpenSSL 3.0.19. */
const kSignatures = `version: 3.0.19
built on: Fri Apr  3 12:29:32 2026 UTC
options: bn(64,64)
CPUINFO: OPENSSL_ia32cap=0xfffa32034f8bffff:0x1a415f46f1bf2ffb
                  sign    verify    sign/s verify/s
rsa 2048 bits 0.000303s 0.000016s   3305.0  62177.0
                              sign    verify    sign/s verify/s
 256 bits ecdsa (nistp256)   0.0000s   0.0001s  52366.7  16408.0
                              sign    verify    sign/s verify/s
 253 bits EdDSA (Ed25519)   0.0000s   0.0001s  30461.0  12183.0
`;

/** `openssl speed -seconds 1 -bytes 300 -hmac sha256` stdout. */
const kHmac = `version: 3.0.19
The 'numbers' are in 1000s of bytes per second processed.
type            300 bytes
hmac(sha256)    999390.30k
`;

describe('bench-support/openssl-speed', () => {
  it('reads verify/s, the last column, for each of the three algorithms', () => {
    assert.deepEqual(parseSignatureSpeed(kSignatures), {
      rsa2048VerifyPerSec: 62177,
      ecdsaP256VerifyPerSec: 16408,
      ed25519VerifyPerSec: 12183,
    });
  });

  it('gives NaN for an algorithm missing from the output, not a neighbour\'s figure', () => {
    const onlyRsa = kSignatures.split('\n').slice(0, 6).join('\n');
    const parsed = parseSignatureSpeed(onlyRsa);
    assert.equal(parsed.rsa2048VerifyPerSec, 62177);
    assert.ok(Number.isNaN(parsed.ecdsaP256VerifyPerSec));
    assert.ok(Number.isNaN(parsed.ed25519VerifyPerSec));
  });

  it('turns HMAC kB/s into MACs per second of the given input size', () => {
    // 999,390.30 thousand bytes per second over 300-byte inputs.
    assert.equal(Math.round(parseHmacSpeed(kHmac, 300)), 3_331_301);
  });

  it('gives NaN when the HMAC line is absent (another digest, or an error)', () => {
    assert.ok(Number.isNaN(parseHmacSpeed('hmac(md5)  1000.00k\n', 300)));
  });
});
