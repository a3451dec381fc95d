#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/cli/ into dist/ by `npm run build`.
import('../dist/src/cli/index.js')
  .then((cli) => cli.main(process.argv.slice(2)))
  .then((code) => {
    if (typeof code === 'number') process.exitCode = code;
  })
  .catch((err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
      process.stderr.write('portcullis: not built yet; run `npm run build` first\n');
    } else {
      process.stderr.write(`portcullis: ${err && err.stack ? err.stack : err}\n`);
    }
    process.exitCode = 1;
  });
