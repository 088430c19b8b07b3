/** Exchange records for tests: the pipeline run over a real capture, and a comparable text form of one. */
import * as path from 'node:path';
import type { Exchange } from '../../src/exchange/record';
import { Pipeline } from '../../src/pipeline';
import { readCaptureInput } from '../../src/source/file-source';
import { packageRoot } from '../../src/package-root';

/**
 * The exchanges of `file` (relative to the package's pcaps/, e.g. 'http/mix.pcap') as the pipeline emits
 * them (unredacted), in emission order, open ones flushed at the end of the input. Source label "file:NAME".
 */
export async function exchangesFromPcap(file: string): Promise<Exchange[]> {
  const exs: Exchange[] = [];
  const p = new Pipeline({ source: `file:${path.basename(file)}` }, (ex) => exs.push(ex));
  await readCaptureInput(path.join(packageRoot(), 'pcaps', file), { onFrame: (f) => p.onFrame(f) });
  p.finish('end_of_input');
  return exs;
}

/** Everything a sink could write of `ex`, as JSON text with Buffers (bodies) as base64: equal text = equal records. */
export function exchangeText(ex: Exchange): string {
  return JSON.stringify(ex, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('base64') : v,
  );
}
