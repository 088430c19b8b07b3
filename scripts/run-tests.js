#!/usr/bin/env node
'use strict';
// Runs every compiled test file under dist/test with node's test runner (Node 20 takes no globs).
// Usage: node scripts/run-tests.js [subdir-filter...]
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const root = path.join(__dirname, '..', 'dist', 'test');
const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.js')) files.push(p);
  }
})(root);
const chosen = files.filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (chosen.length === 0) {
  console.error('run-tests: no test files found under ' + root);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--expose-gc', '--test', '--test-concurrency=2', ...chosen], { stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
