#!/usr/bin/env node
'use strict';
// Entry point: the compiled CLI lives in dist/ (built by `npm install` through the prepare script, or `npm run build`).
let main;
try {
  ({ main } = require('../dist/src/cli/main.js'));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli/main')) {
    process.stderr.write('shadowtap: not built yet: run `npm install` (or `npm run build`) in ' + require('path').resolve(__dirname, '..') + '\n');
    process.exit(1);
  }
  throw err;
}
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write('shadowtap: internal error: ' + (err && err.stack ? err.stack : String(err)) + '\n');
    process.exitCode = 70;
  },
);
