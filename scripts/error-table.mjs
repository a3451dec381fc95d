#!/usr/bin/env node
// Prints the README's error-code table from the compiled registry (run `npm run build` first).
// test/errors/codes.test.ts fails when the README and the registry disagree.
import { kErrorCodes } from '../dist/src/errors/codes.js';

console.log('| Code | Status | Reason | Meaning |');
console.log('| --- | ---: | --- | --- |');
for (const [code, spec] of Object.entries(kErrorCodes)) {
  console.log(`| \`${code}\` | ${spec.status} | \`${spec.reason}\` | ${spec.message} |`);
}
