/**
 * Test driver for `shadowtap sniff`: this process's arguments through src/cli/main.ts as
 * `shadowtap sniff ARGS`, so errors and exit statuses are main's (one stderr line; usage and
 * argument-parser errors exit 1); an unexpected error exits 70 as bin/shadowtap.js does.
 *   node dist/test/helpers/run-sniff.js -i eth0 -f 'tcp port 8080'
 */
import { main } from '../../src/cli/main';

main(['sniff', ...process.argv.slice(2)]).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`shadowtap: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 70;
  },
);
