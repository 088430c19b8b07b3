/**
 * `npm run conformance`: the table of tshark vs shadowtap on every capture in ../shared/corpus
 * (or the folder given as argument). Exit 1 when any tshark exchange is missing, unless the file
 * is listed in KNOWN_DIFFERENCES with the reason.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compare, corpusFiles, expectedPairs, pairKey, runShadowtap } from './compare';
import { KNOWN_DIFFERENCES } from './known-differences';

function main(): number {
  const dir = process.argv[2] ?? path.join(__dirname, '..', '..', '..', '..', 'shared', 'corpus');
  if (!fs.existsSync(dir)) {
    console.log(`conformance: ${dir} not found; skipped`);
    return 0;
  }
  let failures = 0;
  const rows: string[] = [];
  rows.push(['file', 'tshark', 'found', 'missing', 'extra', 'exit', 'note'].join('\t'));
  for (const file of corpusFiles(dir)) {
    const rel = path.relative(dir, file);
    const expected = expectedPairs(file + '.tshark.tsv');
    const run = runShadowtap(file);
    const cmp = compare(expected, run.pairs);
    const known = KNOWN_DIFFERENCES[rel];
    const crashed = run.exitCode !== 0 && run.exitCode !== 2 && run.exitCode !== 3;
    const bad = crashed || (cmp.missing.length > 0 && !known);
    if (bad) failures++;
    rows.push([rel, cmp.expected, cmp.found, cmp.missing.length, cmp.extra.length, run.exitCode, bad ? 'FAIL' : known ?? ''].join('\t'));
    if (bad) {
      for (const m of cmp.missing.slice(0, 10)) rows.push(`    missing: ${pairKey(m)}`);
      if (crashed) rows.push('    stderr: ' + run.stderr.split('\n').slice(0, 5).join(' | '));
    }
    if (cmp.extra.length && process.env.CONFORMANCE_VERBOSE) for (const x of cmp.extra.slice(0, 10)) rows.push(`    extra: ${pairKey(x)}`);
  }
  console.log(rows.join('\n'));
  console.log(failures === 0 ? 'conformance: every tshark exchange found' : `conformance: ${failures} file(s) failing`);
  return failures === 0 ? 0 : 1;
}

process.exitCode = main();
