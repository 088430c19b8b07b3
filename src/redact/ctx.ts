/**
 * The compiled redactor state shared by the body/header/url walkers: rule lookup tables built once at
 * start, the keyed surrogate source, and the per-exchange hit counts (reset for every exchange).
 */
import type { Counters } from '../observe/counters';
import { BoundedMap } from '../util/bounded-map';
import {
  BUILTIN_DETECTORS, BuiltinDetector, HeaderRule, KeyRule, Mode, normalizeKey, parseJsonPath, PathSeg, RedactConfig,
} from './config';
import { RedactConfigError } from './errors';
import { Keyed } from './keyed';
import { BodyCache } from './body-cache';
import { ResultCache } from './memo';
import { compilePatterns, CompiledPattern } from './patterns';
import { prescan } from './prescan';
import {
  maskText, surrogateAwsKey, surrogateCard, surrogateEmail, surrogateIban, surrogateIpv4, surrogateIpv6,
  surrogatePhone, surrogateSecret, surrogateShape, surrogateSsn,
} from './surrogates';
import { flatString } from '../util/flat-string';

const PLAIN_KEY = /^[A-Za-z_$-]*$/;

export interface KeyInfo {
  rule: KeyRule | undefined;
  allow: boolean;
  /** The member name itself must go through the value detectors (JSON walker). */
  scan: boolean;
  /** The name is a bare `name` (a person's name only in a person's object: see PERSON_KEYS, personNameRule). */
  bareName: boolean;
  /** The name is a person's object (customer, users, billing, …): a bare `name` inside it is a person's name. */
  person: boolean;
  /** A member under this name shows its object is a person's (its rule takes emails, phones, addresses, …). */
  personEvidence: boolean;
}

/**
 * Keys (normalised, singular) whose object value describes a person, so that its bare `name` member is a
 * person's name: `"customer": {"name": "Jane Doe"}`. A bare `name` elsewhere (a product, a service, a file)
 * is left alone unless its object also holds an email, phone, address, birth date or national id.
 */
const PERSON_KEYS = new Set([
  'customer', 'user', 'owner', 'contact', 'person', 'member', 'profile', 'billing', 'shipping', 'billto', 'shipto',
  'recipient', 'sender', 'author', 'employee', 'patient', 'cardholder', 'holder', 'accountholder', 'buyer', 'seller',
  'payer', 'payee', 'beneficiary', 'guest', 'passenger', 'driver', 'applicant', 'subscriber', 'student', 'traveler',
  'traveller', 'attendee', 'shopper', 'consignee', 'emergencycontact', 'spouse', 'guardian', 'assignee', 'reporter',
  'reviewer', 'requester', 'people', 'customerinfo', 'userinfo', 'personalinfo', 'personaldetails', 'customerdetails',
]);
/** Rules whose members show that their object is a person's. */
const PERSON_EVIDENCE_RULES = new Set(['email', 'phone', 'address', 'birth_date', 'national_id']);

/** What record() saw: the result, the rule hits (rule, count, rule, count, …) and the counters, in order. */
export interface Recorded<T> {
  out: T;
  hits: Array<string | number>;
  counted: string[];
}

export interface PathRule {
  segs: PathSeg[];
  rule: KeyRule;
}

export class Ctx {
  readonly keyed: Keyed;
  readonly keyRules = new Map<string, KeyRule>();
  readonly pathRules: PathRule[] = [];
  readonly headerRules = new Map<string, HeaderRule>();
  readonly allowKeys: Set<string>;
  readonly urlHeaders: Set<string>;
  readonly jwtClaims: Set<string>;
  readonly patterns: CompiledPattern[];
  readonly enabled: Record<BuiltinDetector, boolean>;
  readonly stagingKey: Buffer | undefined;
  /** Shortest key of any key rule: shorter `key=value` candidates are skipped without a lookup. */
  readonly minKeyLen: number;
  /** Hits of the exchange being redacted: rule → count. */
  counts = new Map<string, number>();
  /** Nesting depth of opened values (JSON in strings, JWT claims, Basic credentials). */
  depth = 0;
  /** Whole redacted Cookie/Authorization-type header values (namespace: lower-case header name) and JWTs (namespace ` jwt`: no header name has a space). */
  readonly results = new ResultCache();
  /** Redacted bodies by (Content-Type, SHA-256 of the bytes): see body-cache.ts. */
  readonly bodies: BodyCache;
  /**
   * The server address of the exchange being redacted (as in the record: dotted quad or RFC 5952), '' when
   * none. The IPv4/IPv6 detectors keep it: it is the replay target (Host: 10.0.0.5:8080, absolute URLs), not
   * personal data. Results cached across exchanges (memo.ts, body-cache.ts) are keyed by it.
   */
  keepIp = '';
  /** While set (inside record()), every count() is also appended here. */
  private countLog: string[] | undefined;

  constructor(readonly cfg: RedactConfig, key: Buffer, readonly counters?: Counters) {
    if (!Buffer.isBuffer(key) || key.length < 32) throw new RedactConfigError('redaction key must be at least 32 bytes');
    this.keyed = new Keyed(Buffer.from(key));
    this.bodies = new BodyCache(cfg.bodies.cacheBytes);
    for (const r of cfg.keys) {
      for (const k of r.keys) this.keyRules.set(normalizeKey(k), r);
      for (const p of r.paths) {
        this.pathRules.push({
          segs: parseJsonPath(p, (m) => { throw new RedactConfigError(`redaction rules: key rule "${r.name}": ${m}`); }),
          rule: r,
        });
      }
    }
    let minKey = Infinity;
    for (const k of this.keyRules.keys()) minKey = Math.min(minKey, k.length);
    this.minKeyLen = minKey;
    for (const r of cfg.headers) for (const h of r.headers) this.headerRules.set(h.toLowerCase(), r);
    this.allowKeys = new Set(cfg.allowKeys.map(normalizeKey));
    this.urlHeaders = new Set(cfg.urlHeaders.map((h) => h.toLowerCase()));
    this.jwtClaims = new Set(cfg.jwt.claims);
    this.patterns = compilePatterns(cfg.patterns);
    const en = {} as Record<BuiltinDetector, boolean>;
    for (const d of BUILTIN_DETECTORS) en[d] = cfg.detectors[d].enabled;
    this.enabled = en;
    this.stagingKey = cfg.jwt.stagingKey.length > 0 ? Buffer.from(cfg.jwt.stagingKey, 'utf8') : undefined;
    if (cfg.fixedToken.length > 256) throw new RedactConfigError('redaction rules: fixedToken longer than 256');
  }

  /**
   * Runs `fn` and records the rule hits and counters it makes, which still reach the current counts and
   * counters (and an enclosing recording). For caches of results: replay() on a cache hit then makes the
   * same hits and counts as running `fn` again (memo.ts, the body cache).
   */
  record<T>(fn: () => T): Recorded<T> {
    const outer = this.counts;
    const outerLog = this.countLog;
    const mine = new Map<string, number>();
    const counted: string[] = [];
    this.counts = mine;
    this.countLog = counted;
    let out: T;
    try {
      out = fn();
    } finally {
      this.counts = outer;
      this.countLog = outerLog;
      for (const [rule, n] of mine) outer.set(rule, (outer.get(rule) ?? 0) + n);
      if (outerLog !== undefined) for (const c of counted) outerLog.push(c);
    }
    const hits: Array<string | number> = [];
    for (const [rule, n] of mine) hits.push(rule, n);
    return { out, hits, counted };
  }

  /** The hits and counters of a recorded run, again. */
  replay(hits: ReadonlyArray<string | number>, counted: readonly string[]): void {
    for (let i = 0; i < hits.length; i += 2) this.hit(hits[i] as string, hits[i + 1] as number);
    for (const c of counted) this.count(c);
  }

  /**
   * `prefix:name` hit labels per rule object, built once (a template string per hit was built and hashed).
   * Rule objects and prefixes are fixed sets; the bounds only make that a guarantee.
   */
  private readonly hitNames = new BoundedMap<object, BoundedMap<string, string>>(4096);

  /** ctx.hit(`${prefix}:${rule.name}`) without building the label each time. */
  ruleHit(prefix: string, rule: { readonly name: string }): void {
    let byPrefix = this.hitNames.get(rule);
    if (byPrefix === undefined) {
      byPrefix = new BoundedMap(64);
      this.hitNames.set(rule, byPrefix);
    }
    let label = byPrefix.get(prefix);
    if (label === undefined) {
      label = `${prefix}:${rule.name}`;
      byPrefix.set(prefix, label);
    }
    this.hit(label);
  }

  hit(rule: string, n = 1): void {
    this.counts.set(rule, (this.counts.get(rule) ?? 0) + n);
  }

  count(counter: string): void {
    this.countLog?.push(counter);
    this.counters?.inc(counter);
  }

  fixed(replacement: string): string {
    return replacement.length > 0 ? replacement : this.cfg.fixedToken;
  }

  mask(s: string): string {
    return maskText(s, this.cfg.mask.char, this.cfg.mask.keepLast);
  }

  /** Applies a non-surrogate mode; undefined for `surrogate` (the caller computes it). */
  byMode(mode: Mode, replacement: string, value: string): string | undefined {
    switch (mode) {
      case 'fixed': return this.fixed(replacement);
      case 'mask': return this.mask(value);
      case 'drop': return '';
      default: return undefined;
    }
  }

  /** Surrogate for a built-in detector hit whose text needs no opening (JWT/bearer/basic are handled by callers). */
  detectorSurrogate(rule: BuiltinDetector, s: string): string {
    const k = this.keyed;
    switch (rule) {
      case 'email': return surrogateEmail(k, s);
      case 'phone': return surrogatePhone(k, s);
      case 'card': return surrogateCard(k, s);
      case 'iban': return surrogateIban(k, s);
      case 'ssn': return surrogateSsn(k, s);
      case 'ipv4': return surrogateIpv4(k, s);
      case 'ipv6': return surrogateIpv6(k, s);
      case 'aws_access_key': return surrogateAwsKey(k, s);
      default: return surrogateSecret(k, s, rule);
    }
  }

  /** JSON path rule matching the current path (array elements as `[]`), if any. */
  pathRule(path: readonly string[]): KeyRule | undefined {
    for (const pr of this.pathRules) {
      const segs = pr.segs;
      if (segs.length !== path.length) continue;
      let ok = true;
      for (let i = 0; i < segs.length && ok; i++) ok = segs[i] === '*' || segs[i] === path[i];
      if (ok) return pr.rule;
    }
    return undefined;
  }

  /** The rule a bare `name` in a person's object takes: the one that takes `fullName` (built in: `name`). */
  get personNameRule(): KeyRule | undefined {
    return this.keyRules.get('fullname');
  }

  /** Per-key lookups are cached (keys repeat across records); bounded, cleared when full. */
  private readonly keyCache = new BoundedMap<string, KeyInfo>(4096);

  /** Rule, allow-list membership and whether the key text itself needs the detectors, for one member name. */
  keyInfo(key: string): KeyInfo {
    let e = this.keyCache.get(key);
    if (e === undefined) {
      const n = normalizeKey(key);
      const rule = this.keyRules.get(n);
      e = {
        rule,
        bareName: n === 'name',
        person: PERSON_KEYS.has(n) || (n.length > 1 && n.endsWith('s') && PERSON_KEYS.has(n.slice(0, -1))),
        personEvidence: rule !== undefined && PERSON_EVIDENCE_RULES.has(rule.name),
        allow: this.allowKeys.has(n),
        // Keys of letters, '_', '$', '-' (or shorter than 3) are not scanned; nor are keys in which the pre-scan
        // finds no trigger (valid only without user patterns, which the pre-scan cannot see).
        scan: key.length >= 3 && !PLAIN_KEY.test(key) && (this.patterns.length > 0 || prescan(key) !== 0),
      };
      if (key.length <= 64) this.keyCache.set(key, e);
    }
    return e;
  }

  /** Direct-mapped front of keyInfo for member names read in place (json.ts); slots hold flat copies. */
  private readonly spanKeys: Array<string | undefined> = new Array<string | undefined>(256).fill(undefined);
  private readonly spanInfos: Array<KeyInfo | undefined> = new Array<KeyInfo | undefined>(256).fill(undefined);

  /**
   * keyInfo(s.slice(from, to)) without building the slice when the name was seen recently: member names
   * repeat in every record of a body, so a hit costs a few character compares instead of a slice and a hash.
   */
  keyInfoAt(s: string, from: number, to: number): KeyInfo {
    const n = to - from;
    if (n === 0) return this.keyInfo('');
    const slot = (n * 31 + s.charCodeAt(from) * 7 + s.charCodeAt(to - 1) * 3 + s.charCodeAt(from + (n >> 1))) & 255;
    const k = this.spanKeys[slot];
    if (k !== undefined && k.length === n && s.startsWith(k, from)) return this.spanInfos[slot]!;
    const key = s.slice(from, to);
    const info = this.keyInfo(key);
    if (n <= 64) {
      this.spanKeys[slot] = flatString(key);
      this.spanInfos[slot] = info;
    }
    return info;
  }

  keyRule(key: string): KeyRule | undefined {
    return this.keyInfo(key).rule;
  }

  isAllowKey(key: string | undefined): boolean {
    return key !== undefined && this.keyInfo(key).allow;
  }

  shape(s: string, kind: string): string {
    return surrogateShape(this.keyed, s, kind);
  }

  secret(s: string, kind = 'secret'): string {
    return surrogateSecret(this.keyed, s, kind);
  }
}
