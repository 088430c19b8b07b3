/**
 * Seeded redaction suite through the real pipeline: one synthetic capture (Ethernet[IPv4[TCP[HTTP/1.1]]],
 * written by test/helpers/http-pcap-builder.ts) holds fresh random PII of every type (e-mail, E.164
 * phone, card, IBAN, SSN, IPv4, IPv6, JWT with PII claims, bearer token, AWS access key, Basic
 * credentials) in every carrier (header, cookie, query, path segment, JSON key / value / number, form,
 * multipart part and filename, XML, text, JWT claim, Basic credentials) under every framing (identity,
 * gzip, deflate zlib and raw, br, chunked, chunked + gzip, missing / wrong Content-Type, octet-stream,
 * unknown type, request body with Content-Encoding, close-delimited, a body over 1 MiB, decompression
 * bombs). `shadowtap read` runs on it as jsonl, har and pb, and with --no-redact as the control.
 *
 * Expected: no seeded secret in any encoding (raw, lower-cased, percent / form / JSON / XML / base64,
 * digits alone or in groups of 4) anywhere in any output, nor in any decoded body, Basic blob or JWT
 * segment of it; every exchange present with its method, status and PII-free url; redaction summaries
 * recorded; fail-closed placeholders for bombs, binary and unknown types; at most 0.1% of 5,000 decoys
 * altered. The control finds every seeded value in the --no-redact output (so the search can fail).
 *
 * A leak found is recorded in KNOWN_LEAKS (carrier × framing → what leaked): that case runs as a todo.
 */
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeExchangesDelimited } from '../../src/sink/codec';
import { bodyOf, parseJsonl, runCli, stackLines, type CliResult, type ExchangeJson, type MessageJson } from './read-support';
import {
  CARRIERS, FRAMINGS, NeedleIndex, decodeLeftover, derived, writeSeededCapture,
  type Carrier, type Hit, type PiiType, type PlannedExchange, type SeededCapture,
} from './redaction-seeded-support';

const SEED = 0x5eed_2024;

/**
 * Leaks found by this suite and not fixed yet in src/redact. A hit of a listed type in a listed
 * carrier (any framing) is attributed to the entry: the carrier × framing cases then pass without it,
 * and the entry's own case runs as a todo that fails while the leak exists. Any other hit fails.
 */
interface KnownLeak {
  name: string;
  carriers: Carrier[];
  types: PiiType[];
}
const KNOWN_LEAKS: KnownLeak[] = [
  // Both leaks this suite found (a number or IPv6 address directly followed by a file extension or a
  // full stop) are fixed in src/redact/scan.ts; new ones go here while they are open.
];

function knownLeakOf(h: Hit): KnownLeak | undefined {
  const c = h.needle.cell;
  return KNOWN_LEAKS.find((k) => k.carriers.includes(c.carrier) && k.types.includes(c.type));
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shadowtap-seeded-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const PCAP = path.join(tmp, 'seeded.pcap');

let cap: SeededCapture;
let index: NeedleIndex;
const runs: Record<'jsonl' | 'har' | 'pb' | 'plain', { r: CliResult; bytes: Buffer }> = {} as never;
let redacted: ExchangeJson[];
let plain: ExchangeJson[];
let hits: Hit[];
let plainHits: Hit[];

/** The planned exchange an output exchange belongs to (its url's first four segments). */
function keyOf(e: ExchangeJson): string {
  const u = e.request?.url ?? '';
  return u.split('?')[0].split('/').slice(0, 5).join('/');
}

function isPlaceholder(b: Buffer): boolean {
  return /^\[shadowtap: \d+ bytes of [^\]]* withheld, digest [0-9a-f]{16}\]$/.test(b.toString('utf8'));
}

/** Everything in which a seeded value could be read back: the text, each body, what decodes out of them. */
function haystacksOfExchange(e: ExchangeJson | Record<string, unknown>, label: string, body: (m: MessageJson | undefined) => Buffer): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const ex = e as ExchangeJson;
  for (const side of ['request', 'response'] as const) {
    const m = ex[side];
    const b = body(m);
    if (!b.length) continue;
    out.push([`${label} ${side} body`, b.toString('latin1')]);
    const enc = m?.contentEncodings ?? [];
    if (enc.length && ex.completeness?.decodeError) {
      const d = decodeLeftover(b, enc);
      if (d) out.push([`${label} ${side} body, ${enc.join(',')}-decoded by the test`, d]);
    }
  }
  return out;
}

function scanAll(hay: Array<[string, string]>, idx: NeedleIndex): Hit[] {
  const found: Hit[] = [];
  for (const [where, text] of hay) {
    idx.scan(text, where, found);
    derived(text).forEach((d, i) => idx.scan(d, `${where} (derived ${i})`, found));
  }
  return found;
}

function jsonlHaystacks(stdout: Buffer, exs: ExchangeJson[], fmt: string): Array<[string, string]> {
  const hay: Array<[string, string]> = [[`${fmt} output`, stdout.toString('utf8')]];
  exs.forEach((e, i) => hay.push(...haystacksOfExchange(e, `${fmt} exchange ${i} (${keyOf(e)})`, bodyOf)));
  return hay;
}

function harHaystacks(bytes: Buffer): Array<[string, string]> {
  const hay: Array<[string, string]> = [['har output', bytes.toString('utf8')]];
  const walk = (v: unknown, at: string): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`));
    else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.text === 'string' && o.encoding === 'base64') hay.push([`har ${at}.text (base64-decoded)`, Buffer.from(o.text, 'base64').toString('latin1')]);
      for (const [k, x] of Object.entries(o)) walk(x, `${at}.${k}`);
    }
  };
  walk(JSON.parse(bytes.toString('utf8')), 'log');
  return hay;
}

function pbHaystacks(bytes: Buffer): Array<[string, string]> {
  const hay: Array<[string, string]> = [['pb output (latin1)', bytes.toString('latin1')]];
  const msgs = decodeExchangesDelimited(bytes);
  const raw = (m: MessageJson | undefined): Buffer => {
    const b = (m as unknown as { body?: Uint8Array | string } | undefined)?.body;
    return b === undefined ? Buffer.alloc(0) : typeof b === 'string' ? Buffer.from(b, 'base64') : Buffer.from(b);
  };
  msgs.forEach((m, i) => hay.push(...haystacksOfExchange(m, `pb exchange ${i}`, raw)));
  return hay;
}

function describeHit(h: Hit): string {
  const c = h.needle.cell;
  return `${c.type} in ${c.carrier} × ${c.framing}: ${h.needle.secret} (${h.needle.encoding}) "${h.needle.text}" at ${h.where}: …${h.context}…`;
}

before(async () => {
  const t0 = Date.now();
  cap = writeSeededCapture(PCAP, SEED);
  index = new NeedleIndex();
  for (const c of cap.cells) index.addCell(c);
  const base = ['read', PCAP, '--stats', 'none'];
  const o = { timeoutMs: 120_000 };
  const file = (f: string): string => path.join(tmp, f);
  // Two at a time: the machine has two cores.
  const [jsonl, har] = await Promise.all([runCli(base, o), runCli([...base, '--format', 'har', '-o', file('out.har')], o)]);
  const [pb, pl] = await Promise.all([runCli([...base, '--format', 'pb', '-o', file('out.pb')], o), runCli([...base, '--no-redact'], o)]);
  runs.jsonl = { r: jsonl, bytes: jsonl.stdout };
  runs.har = { r: har, bytes: fs.existsSync(file('out.har')) ? fs.readFileSync(file('out.har')) : Buffer.alloc(0) };
  runs.pb = { r: pb, bytes: fs.existsSync(file('out.pb')) ? fs.readFileSync(file('out.pb')) : Buffer.alloc(0) };
  runs.plain = { r: pl, bytes: pl.stdout };
  for (const [k, v] of Object.entries(runs)) {
    assert.equal(v.r.code, 0, `${k}: exit ${v.r.code} ${v.r.signal ?? ''}\n${v.r.stderr}`);
    assert.deepEqual(stackLines(v.r.stderr), [], `${k}: no stack trace`);
  }
  redacted = parseJsonl(runs.jsonl.bytes);
  plain = parseJsonl(runs.plain.bytes);
  const t1 = Date.now();
  hits = [
    ...scanAll(jsonlHaystacks(runs.jsonl.bytes, redacted, 'jsonl'), index),
    ...scanAll(harHaystacks(runs.har.bytes), index),
    ...scanAll(pbHaystacks(runs.pb.bytes), index),
  ];
  plainHits = scanAll(jsonlHaystacks(runs.plain.bytes, plain, 'plain'), index);
  const t2 = Date.now();
  console.log(`# seeded: ${cap.cells.length} values, ${index.needles.length} needles, ${cap.exchanges.length} exchanges, ` +
    `${cap.packets} packets, ${(cap.bytes / 1048576).toFixed(1)} MiB pcap; build+cli ${t1 - t0} ms, scan ${t2 - t1} ms`);
});

describe('seeded capture through `shadowtap read`: every exchange survives redaction', () => {
  it('each planned exchange once, with its method, status and (when PII-free) url, redacted and not', () => {
    for (const [name, exs] of [['redacted', redacted], ['--no-redact', plain]] as const) {
      const got = new Map<string, ExchangeJson[]>();
      for (const e of exs) got.set(keyOf(e), [...(got.get(keyOf(e)) ?? []), e]);
      assert.equal(exs.length, cap.exchanges.length, `${name}: exchange count`);
      const problems: string[] = [];
      for (const p of cap.exchanges) {
        const l = got.get(p.key) ?? [];
        if (l.length !== 1) {
          problems.push(`${p.key}: ${l.length} exchanges`);
          continue;
        }
        const e = l[0];
        if (e.request?.method !== p.method) problems.push(`${p.key}: method ${e.request?.method}, sent ${p.method}`);
        if (e.response?.status !== p.status) problems.push(`${p.key}: status ${e.response?.status}, sent ${p.status}`);
        if (p.carrier !== 'query' && p.carrier !== 'path' && p.carrier !== 'path-file' && e.request?.url !== p.url) problems.push(`${p.key}: url ${e.request?.url}`);
        if (name === '--no-redact' && e.request?.url !== p.url) problems.push(`${p.key}: unredacted url ${e.request?.url}, sent ${p.url}`);
      }
      assert.deepEqual(problems, [], name);
    }
  });

  it('redaction summaries on every PII exchange; bodies redacted in place or withheld where expected', () => {
    const byKey = new Map(redacted.map((e) => [keyOf(e), e]));
    const problems: string[] = [];
    for (const p of cap.exchanges) {
      const e = byKey.get(p.key);
      if (!e) continue; // reported by the test above
      const rules = new Set((e.redactions ?? []).map((x) => x.rule));
      if (p.cells.length && rules.size === 0) problems.push(`${p.key}: no redaction summary`);
      for (const [side, want] of [['request', p.requestBody], ['response', p.responseBody]] as const) {
        const b = bodyOf(e[side]);
        if (want.startsWith('placeholder:')) {
          const reason = want.slice('placeholder:'.length);
          if (!isPlaceholder(b)) problems.push(`${p.key} ${side}: expected a placeholder (${reason}), got ${JSON.stringify(b.subarray(0, 80).toString('latin1'))}`);
          // A bomb stops at the ratio or size cap (decode_error); both are fail-closed.
          if (!rules.has(`body:${reason}`)) problems.push(`${p.key} ${side}: no body:${reason} in ${[...rules].join(',')}`);
        } else if (want === 'redacted' || want === 'neutral') {
          if (!b.length) problems.push(`${p.key} ${side}: body missing`);
          else if (isPlaceholder(b)) problems.push(`${p.key} ${side}: withheld (${b.toString('utf8')}) though its type is known`);
          else if ((e[side]?.headers ?? []).some((h) => h.name.toLowerCase() === 'content-type' && h.value.startsWith('application/json'))) {
            try {
              JSON.parse(b.toString('utf8'));
            } catch {
              problems.push(`${p.key} ${side}: redacted JSON body no longer parses`);
            }
          }
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('control: every seeded value is found in the --no-redact output (the search can fail)', () => {
    const found = new Set(plainHits.map((h) => h.needle.cell.id));
    const missing = cap.cells.filter((c) => !found.has(c.id)).map((c) => `${c.type} in ${c.carrier} × ${c.framing}: ${c.value.carried}`);
    assert.deepEqual(missing, []);
    assert.ok(plainHits.some((h) => h.needle.cell.carrier === 'basic' && h.where.includes('derived')), 'Basic blobs are decoded by the search');
    assert.ok(plainHits.some((h) => h.needle.cell.carrier === 'jwt-claim' && h.where.includes('derived')), 'JWT claims are decoded by the search');
    assert.ok(plainHits.some((h) => h.needle.cell.framing === 'bomb' && h.where.includes('decoded by the test')), 'bodies left encoded are decoded by the search');
  });
});

describe('no seeded value is recoverable from any output (jsonl, har, pb)', () => {
  for (const carrier of CARRIERS) {
    for (const framing of FRAMINGS) {
      it(`${carrier} × ${framing}`, () => {
        const mine = hits.filter((h) => h.needle.cell.carrier === carrier && h.needle.cell.framing === framing && !knownLeakOf(h));
        const lines = [...new Set(mine.map(describeHit))];
        assert.deepEqual(lines.slice(0, 20), [], `${lines.length} leak(s)`);
      });
    }
  }
  for (const k of KNOWN_LEAKS) {
    it(`known leak: ${k.carriers.join(', ')} × ${k.types.join(', ')}`, { todo: `LEAK: ${k.name}` }, () => {
      const mine = hits.filter((h) => knownLeakOf(h) === k);
      const lines = [...new Set(mine.map(describeHit))];
      assert.deepEqual(lines.slice(0, 10), [], `${lines.length} leak(s)`);
    });
  }
});

describe('decoys survive redaction', () => {
  it('at most 0.1% of 5,000 timestamps, Luhn order ids, UUIDs, floats, versions and hashes altered', () => {
    assert.equal(cap.decoys.length, 5000);
    const byKey = new Map(redacted.map((e) => [keyOf(e), e]));
    const bodies = new Map<string, Map<string, string>>();
    for (const p of cap.exchanges.filter((x: PlannedExchange) => x.carrier === 'decoy')) {
      const e = byKey.get(p.key);
      const text = bodyOf(e?.response).toString('utf8');
      const m = new Map<string, string>();
      const re = p.key.includes('decoy-json') ? /"(m\d+)":("(?:[^"\\]|\\.)*"|[^,}]+)/g : /^(m\d+): (.*)$/gm;
      for (const x of text.matchAll(re)) m.set(x[1], x[2]);
      bodies.set(p.key, m);
    }
    const altered = cap.decoys.filter((d) => bodies.get(d.exchangeKey)?.get(d.key) !== d.text);
    console.log(`# decoys altered: ${altered.length} of ${cap.decoys.length}`);
    const byKind: Record<string, number> = {};
    for (const d of altered) byKind[d.kind] = (byKind[d.kind] ?? 0) + 1;
    const examples = altered.slice(0, 5).map((d) => `${d.kind} ${d.text} → ${bodies.get(d.exchangeKey)?.get(d.key)}`);
    assert.ok(altered.length <= 5, `${altered.length} of 5000 decoys altered: ${JSON.stringify(byKind)} e.g. ${examples.join('; ')}`);
  });
});
