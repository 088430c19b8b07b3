import * as promClient from 'prom-client';
import type { Pipeline } from '../pipeline';

/**
 * Prometheus exposition for the live modes. Pipeline counters are rendered directly from the
 * Counters snapshot (no per-packet prom-client calls on the hot path); process and event-loop
 * metrics (nodejs_eventloop_lag_seconds, ...) come from prom-client's default collectors.
 */
export class Metrics {
  private readonly registry = new promClient.Registry();

  constructor(private readonly pipeline: Pipeline, private readonly extra: () => Record<string, number> = () => ({})) {
    promClient.collectDefaultMetrics({ register: this.registry, prefix: 'shadowtap_' });
  }

  readonly contentType = promClient.Registry.PROMETHEUS_CONTENT_TYPE;

  async render(): Promise<string> {
    const p = this.pipeline;
    const lines: string[] = [];
    const counter = (name: string, help: string, samples: Array<[string, number]>): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, v] of samples) lines.push(`${name}${labels} ${v}`);
    };
    const gauge = (name: string, help: string, v: number): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${v}`);
    };
    counter('shadowtap_packets_received_total', 'Frames received from the source.', [['', p.packets]]);
    counter('shadowtap_bytes_received_total', 'Captured bytes received from the source.', [['', p.bytes]]);
    counter(
      'shadowtap_packets_total',
      'Every received frame, counted once under its outcome (tcp_to_flow, or the reason it was dropped).',
      Object.entries(p.packetOutcomes.snapshot()).map(([k, v]) => [`{outcome="${k}"}`, v]),
    );
    const c = p.counters.snapshot();
    counter('shadowtap_exchanges_emitted_total', 'HTTP exchanges emitted (after redaction).', [['', c.exchanges_emitted ?? 0]]);
    counter('shadowtap_gap_bytes_total', 'TCP payload bytes lost (never captured or mirrored).', [['', c.gap_bytes ?? 0]]);
    counter(
      'shadowtap_events_total',
      'Named pipeline counters (drops, gaps, parse errors, redaction rules, sink events).',
      Object.entries(c).map(([k, v]) => [`{name="${k}"}`, v]),
    );
    for (const [k, v] of Object.entries(this.extra())) gauge(`shadowtap_${k}`, `Source statistic ${k}.`, v);
    gauge('shadowtap_active_flows', 'TCP connections currently tracked.', p.activeFlows);
    return lines.join('\n') + '\n' + (await this.registry.metrics());
  }
}
