import type { PipelineTotals } from '../pipeline';
import type { CaptureEnd } from '../source/capture-reader';

/** The end-of-run summary of `read`: what came in, what went out, and every reason something was lost. */
export function summaryObject(input: string, end: CaptureEnd, p: PipelineTotals, seconds: number): Record<string, unknown> {
  const c = p.counters.snapshot();
  return {
    input,
    format: end.format,
    truncatedAt: end.truncatedAt ?? null,
    seconds: Math.round(seconds * 1000) / 1000,
    packets: p.packets,
    bytes: p.bytes,
    flows: c.flows_created ?? 0,
    exchanges: c.exchanges_emitted ?? 0,
    exchangesRequestMissing: c.exchanges_request_missing ?? 0,
    exchangesResponseMissing: c.exchanges_response_missing ?? 0,
    exchangesPartial: c.exchanges_partial ?? 0,
    exchangesParseError: c.exchanges_parse_error ?? 0,
    gapBytes: c.gap_bytes ?? 0,
    truncatedBytes: c.truncated_bytes ?? 0,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    packetOutcomes: p.packetOutcomes.snapshot(),
    counters: c,
  };
}

function mb(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
}

export function formatSummary(input: string, end: CaptureEnd, p: PipelineTotals, seconds: number): string {
  const s = summaryObject(input, end, p, seconds);
  const outcomes = p.packetOutcomes.snapshot();
  const lines = [
    `shadowtap read ${input} (${end.format}) in ${seconds.toFixed(2)} s`,
    `  packets ${s.packets}, ${mb(p.bytes)}; flows ${s.flows}; exchanges ${s.exchanges}` +
      ` (request missing ${s.exchangesRequestMissing}, response missing ${s.exchangesResponseMissing},` +
      ` partial ${s.exchangesPartial}, parse errors ${s.exchangesParseError})`,
    `  gap bytes ${s.gapBytes}, truncated bytes ${s.truncatedBytes}`,
    `  packets by outcome: ` + Object.entries(outcomes).map(([k, v]) => `${k} ${v}`).join(', '),
  ];
  const shown = new Set(['flows_created', 'exchanges_emitted', 'exchanges_request_missing', 'exchanges_response_missing', 'exchanges_partial', 'exchanges_parse_error', 'gap_bytes', 'truncated_bytes']);
  const rest = Object.entries(p.counters.snapshot()).filter(([k, v]) => !shown.has(k) && v !== 0);
  if (rest.length) lines.push('  counters: ' + rest.map(([k, v]) => `${k} ${v}`).join(', '));
  return lines.join('\n') + '\n';
}
