import * as promClient from 'prom-client';
import type { Pipeline } from '../pipeline';

/**
 * Prometheus exposition for the live modes. Pipeline counters are rendered directly from the
 * Counters snapshot (no per-packet prom-client calls on the hot path); process and event-loop
 * metrics (nodejs_eventloop_lag_seconds, ...) come from prom-client's default collectors.
 *
 * `extra()` supplies gauges: key = metric name without the `shadowtap_` prefix, optionally with a
 * label set (`udp_rcvbuf_bytes{listener="vxlan"}`); samples of one name are grouped under one
 * HELP/TYPE header.
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
    const gauge = (name: string, help: string, samples: Array<[string, number]>): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      for (const [labels, v] of samples) lines.push(`${name}${labels} ${v}`);
    };
    counter('shadowtap_packets_received_total', 'Frames received from the source.', [['', p.packets]]);
    counter('shadowtap_bytes_received_total', 'Captured bytes received from the source.', [['', p.bytes]]);
    counter(
      'shadowtap_packets_total',
      'Every received frame, counted once under its outcome (tcp_to_flow, or the reason it was dropped).',
      Object.entries(p.packetOutcomes.snapshot()).map(([k, v]) => [`{outcome="${k}"}`, v]),
    );
    const c = p.counters.snapshot();
    counter('shadowtap_exchanges_emitted_total', 'HTTP exchanges assembled by the pipeline (those shed under overload included).', [['', c.exchanges_emitted ?? 0]]);
    counter('shadowtap_exchanges_shed_total', 'HTTP exchanges set aside under overload (--shed-at): assembled, never redacted or written.', [['', c.exchanges_shed_overload ?? 0]]);
    counter('shadowtap_gap_bytes_total', 'TCP payload bytes lost (never captured or mirrored).', [['', c.gap_bytes ?? 0]]);
    counter(
      'shadowtap_events_total',
      'Named pipeline counters (drops, gaps, parse errors, redaction rules, sink events).',
      Object.entries(c).map(([k, v]) => [`{name="${k}"}`, v]),
    );
    const groups = new Map<string, Array<[string, number]>>();
    for (const [key, v] of Object.entries(this.extra())) {
      const brace = key.indexOf('{');
      const name = brace < 0 ? key : key.slice(0, brace);
      const labels = brace < 0 ? '' : key.slice(brace);
      let g = groups.get(name);
      if (!g) groups.set(name, (g = []));
      g.push([labels, v]);
    }
    for (const [name, samples] of groups) gauge(`shadowtap_${name}`, `Live statistic ${name}.`, samples);
    gauge('shadowtap_active_flows', 'TCP connections currently tracked.', [['', p.activeFlows]]);
    return lines.join('\n') + '\n' + (await this.registry.metrics());
  }
}
