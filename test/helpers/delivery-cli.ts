/**
 * Test-only CLI for the delivery work until src/cli/main.ts and read-command.ts call it:
 *   node dist/test/helpers/delivery-cli.js collect ...    → runCollect
 *   node dist/test/helpers/delivery-cli.js inspect ...    → runInspect
 *   node dist/test/helpers/delivery-cli.js read FILE [--no-redact] [-o OUT] --sink URL [sink flags]
 *     → the `read` pipeline (same stages as read-command.ts) into attachRemoteSink; prints the
 *       counters as one JSON line on stderr at the end.
 * Errors are reported like main.ts: one line on stderr and the error's exit status.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Pipeline } from '../../src/pipeline';
import { Counters } from '../../src/observe/counters';
import { readCaptureInput } from '../../src/source/file-source';
import { ShadowtapError } from '../../src/errors';
import { redactionFromFlags } from '../../src/cli/redaction-options';
import { openOutput } from '../../src/cli/output-options';
import { runCollect } from '../../src/cli/collect-command';
import { runInspect } from '../../src/cli/inspect-command';
import { SINK_OPTIONS } from '../../src/cli/sink-options';
import { attachRemoteSink } from '../../src/cli/attach-sink';
import type { Exchange } from '../../src/exchange/record';

async function readWithSink(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...SINK_OPTIONS, output: { type: 'string', short: 'o' }, 'no-redact': { type: 'boolean' }, 'batch-exchanges': { type: 'string' } },
  });
  const input = positionals[0]!;
  const counters = new Counters();
  const warn = (msg: string): void => void process.stderr.write(`shadowtap: ${msg}\n`);
  const redaction = redactionFromFlags({ noRedact: !!values['no-redact'], rulesFile: undefined, keyFile: undefined }, warn, counters);
  const local = values.output ? openOutput('jsonl', values.output) : null;
  const batch = values['batch-exchanges'];
  const sink = attachRemoteSink(values, input, local, counters, warn, batch ? { tuning: { maxBatchExchanges: Number(batch) } } : {});
  if (!sink) throw new ShadowtapError('CAP_ERR_USAGE', 'no --sink and no -o', 1);
  const pipeline = new Pipeline({ source: `file:${path.basename(input)}`, counters }, (ex: Exchange) => {
    sink.write(redaction ? redaction.redactor.redact(ex) : ex);
  });
  await readCaptureInput(input, { onFrame: (f) => pipeline.onFrame(f), onWeird: (n) => counters.inc(n) });
  pipeline.finish('end_of_input');
  await sink.close();
  const snap = counters.snapshot();
  const sinkCounters: Record<string, number> = {};
  for (const [k, v] of Object.entries(snap)) if (k.startsWith('sink_') || k === 'exchanges_emitted') sinkCounters[k] = v;
  process.stderr.write(JSON.stringify({ counters: sinkCounters }) + '\n');
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === 'collect') return await runCollect(rest);
    if (cmd === 'inspect') return await runInspect(rest);
    if (cmd === 'read') return await readWithSink(rest);
    throw new ShadowtapError('CAP_ERR_USAGE', `unknown command ${cmd}`, 1);
  } catch (err) {
    if (err instanceof ShadowtapError) {
      process.stderr.write(`shadowtap: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write('shadowtap: internal error: ' + ((err as Error)?.stack ?? String(err)) + '\n');
    process.exitCode = 70;
  },
);
