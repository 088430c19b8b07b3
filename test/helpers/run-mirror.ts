/**
 * Test driver for `shadowtap mirror` until it is wired into src/cli/main.ts: runs runMirror with this
 * process's arguments and turns a ShadowtapError into one stderr line + its exit status, as main does.
 *   node dist/test/helpers/run-mirror.js --listen 127.0.0.1:4789 -o out.jsonl
 */
import { runMirror } from '../../src/cli/mirror-command';
import { ShadowtapError } from '../../src/errors';

runMirror(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ShadowtapError) {
      process.stderr.write(`shadowtap: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else if (err instanceof Error && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`shadowtap: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`shadowtap: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 70;
    }
  },
);
