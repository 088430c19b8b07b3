/**
 * Redaction rules: the resolved RedactConfig (built-in defaults with the user's YAML merged over them),
 * the YAML parser and its validation. Everything here runs once at start; errors are RedactConfigError
 * naming the offending key and, when the YAML has it, the line.
 *
 * Schema: see default-rules.yaml beside this file (it is the documentation of every key).
 */
import { RedactConfigError } from './errors';

/** How a matched value is replaced. */
export type Mode = 'surrogate' | 'mask' | 'fixed' | 'drop';
export const MODES: readonly Mode[] = ['surrogate', 'mask', 'fixed', 'drop'];

/**
 * What kind of value a key/header rule protects: chooses the surrogate shape.
 * `text` = shape-preserving (letters→letters, digits→digits), `secret` = opaque token of the same length,
 * `credentials` = an Authorization-style value (scheme kept, Basic/Bearer/JWT opened),
 * `cookie` = a Cookie / Set-Cookie header (names kept, values replaced), `ip` = list of IP addresses.
 */
export type Kind =
  | 'email' | 'phone' | 'card' | 'iban' | 'ssn' | 'ip' | 'secret' | 'text' | 'credentials' | 'cookie';
export const KINDS: readonly Kind[] = [
  'email', 'phone', 'card', 'iban', 'ssn', 'ip', 'secret', 'text', 'credentials', 'cookie',
];

export type BuiltinDetector =
  | 'email' | 'phone' | 'card' | 'iban' | 'ssn' | 'ipv4' | 'ipv6' | 'jwt' | 'bearer' | 'basic_auth'
  | 'aws_access_key';
export const BUILTIN_DETECTORS: readonly BuiltinDetector[] = [
  'email', 'phone', 'card', 'iban', 'ssn', 'ipv4', 'ipv6', 'jwt', 'bearer', 'basic_auth', 'aws_access_key',
];

export interface DetectorSetting {
  enabled: boolean;
  mode: Mode;
  /** Used by mode `fixed`; empty = the global fixedToken. */
  replacement: string;
}

export interface KeyRule {
  name: string;
  /** Key names, matched after normalisation (lower-case, `-`, `_`, `.` and spaces removed). */
  keys: string[];
  /** JSON paths: `$.a.b`, `$.items[*].email`, `*` = any one segment. Matched case-sensitively. */
  paths: string[];
  kind: Kind;
  mode: Mode;
  replacement: string;
}

export interface HeaderRule {
  name: string;
  /** Header names, lower-case. */
  headers: string[];
  kind: Kind;
  mode: Mode;
  replacement: string;
}

export interface PatternRule {
  name: string;
  /** RE2 syntax; compiled at start, rejected if RE2 cannot compile it. */
  pattern: string;
  /** `i` for case-insensitive; nothing else is accepted. */
  flags: string;
  mode: Mode;
  replacement: string;
}

export interface RedactConfig {
  version: 1;
  fixedToken: string;
  mask: { char: string; keepLast: number };
  detectors: Record<BuiltinDetector, DetectorSetting>;
  headers: HeaderRule[];
  keys: KeyRule[];
  patterns: PatternRule[];
  /** Keys under which the numeric detectors (card, phone, ssn, ipv4) do not run: context negatives. */
  allowKeys: string[];
  /** Headers whose values are URLs (path + query + userinfo are redacted). */
  urlHeaders: string[];
  jwt: {
    /** HS256 secret used to re-sign redacted JWTs; empty = signature replaced by a keyed digest. */
    stagingKey: string;
    /** Claim names always redacted (in addition to key rules and detectors). */
    claims: string[];
  };
  bodies: {
    /** Bodies larger than this are withheld (placeholder). */
    maxBytes: number;
    /** Content types (`type/subtype` or `type/*`) stored byte-identical, unredacted. Empty by default. */
    passThroughTypes: string[];
    /** Max nesting depth for JSON / JSON-in-string / multipart before the body is withheld. */
    maxDepth: number;
    /** Bytes of redacted bodies kept for repeated bodies (body-cache.ts); 0 disables the cache. */
    cacheBytes: number;
  };
}

/** Normalises a key for matching: lower-case, separators removed (`first_name` = `firstName`). */
export function normalizeKey(k: string): string {
  return k.toLowerCase().replace(/[-_. ]/g, '');
}

function detector(mode: Mode = 'surrogate'): DetectorSetting {
  return { enabled: true, mode, replacement: '' };
}

function keyRule(name: string, kind: Kind, keys: string[], mode: Mode = 'surrogate'): KeyRule {
  return { name, keys, paths: [], kind, mode, replacement: '' };
}

function headerRule(name: string, kind: Kind, headers: string[], mode: Mode = 'surrogate'): HeaderRule {
  return { name, headers, kind, mode, replacement: '' };
}

/** The built-in rules. A fresh object each call (callers may mutate it). */
export function defaultRedactConfig(): RedactConfig {
  return {
    version: 1,
    fixedToken: '[redacted]',
    mask: { char: '*', keepLast: 0 },
    detectors: {
      email: detector(), phone: detector(), card: detector(), iban: detector(), ssn: detector(),
      ipv4: detector(), ipv6: detector(), jwt: detector(), bearer: detector(), basic_auth: detector(),
      aws_access_key: detector(),
    },
    headers: [
      headerRule('authorization', 'credentials', ['authorization', 'proxy-authorization']),
      headerRule('cookie', 'cookie', ['cookie', 'set-cookie', 'set-cookie2']),
      headerRule('api_key', 'secret', [
        'x-api-key', 'api-key', 'apikey', 'x-auth-token', 'x-access-token', 'x-csrf-token', 'x-xsrf-token',
        'x-amz-security-token', 'x-session-token', 'x-session-id', 'x-refresh-token', 'x-id-token',
        'x-client-secret', 'x-goog-api-key', 'ocp-apim-subscription-key', 'private-token', 'x-shopify-access-token',
        'x-vault-token', 'x-hub-signature', 'x-hub-signature-256', 'x-signature',
      ]),
      headerRule('client_ip', 'ip', [
        'x-forwarded-for', 'forwarded', 'x-real-ip', 'true-client-ip', 'cf-connecting-ip', 'x-client-ip',
        'x-cluster-client-ip', 'fastly-client-ip', 'x-original-forwarded-for', 'x-envoy-external-address',
      ]),
      headerRule('user_header', 'text', ['x-user-email', 'x-user-id', 'x-user-name', 'x-forwarded-user',
        'x-forwarded-email', 'x-remote-user', 'remote-user', 'x-auth-request-email', 'x-auth-request-user']),
    ],
    keys: [
      keyRule('email', 'email', ['email', 'emailaddress', 'mail', 'useremail', 'contactemail', 'e-mail']),
      keyRule('phone', 'phone', ['phone', 'phonenumber', 'mobile', 'mobilephone', 'cell', 'cellphone',
        'telephone', 'tel', 'msisdn', 'fax', 'homephone', 'workphone']),
      keyRule('secret', 'secret', ['password', 'passwd', 'pwd', 'pass', 'passphrase', 'secret', 'clientsecret',
        'apikey', 'apisecret', 'accesstoken', 'refreshtoken', 'idtoken', 'token', 'authtoken', 'sessionid',
        'sessiontoken', 'session', 'sid', 'authorization', 'auth', 'privatekey', 'secretkey',
        'awssecretaccesskey', 'otp', 'pin', 'cvv', 'cvc', 'cvv2', 'securitycode', 'csrftoken', 'xsrftoken',
        'credentials', 'signature', 'code', 'state', 'nonce', 'samlresponse', 'assertion']),
      keyRule('name', 'text', ['firstname', 'lastname', 'fullname', 'givenname', 'familyname', 'surname',
        'middlename', 'maidenname', 'displayname', 'username', 'login', 'nickname', 'customername',
        'cardholder', 'cardholdername', 'holdername', 'accountholder', 'accountname', 'contactname',
        'billingname', 'shippingname', 'preferredusername', 'uniquename', 'upn']),
      keyRule('address', 'text', ['address', 'streetaddress', 'street', 'addressline', 'addressline1',
        'addressline2', 'addressline3', 'postcode', 'postalcode', 'zip', 'zipcode', 'homeaddress',
        'billingaddress', 'shippingaddress', 'formattedaddress']),
      keyRule('birth_date', 'text', ['dob', 'dateofbirth', 'birthdate', 'birthday', 'birthdt']),
      keyRule('national_id', 'text', ['ssn', 'socialsecuritynumber', 'sin', 'nationalid', 'nationalidnumber',
        'nin', 'taxid', 'tin', 'vatid', 'passport', 'passportnumber', 'passportno', 'driverslicense',
        'driverlicense', 'driverslicensenumber', 'licensenumber', 'idnumber', 'idcard', 'personalnumber']),
      keyRule('card', 'card', ['cardnumber', 'creditcard', 'creditcardnumber', 'ccnumber', 'pan', 'cardno']),
      keyRule('bank_account', 'text', ['iban', 'accountnumber', 'bankaccount', 'bankaccountnumber',
        'routingnumber', 'sortcode', 'bic', 'swift']),
      keyRule('ip', 'ip', ['ip', 'ipaddress', 'clientip', 'remoteip', 'remoteaddr', 'remoteaddress',
        'sourceip', 'userip', 'xforwardedfor']),
      keyRule('geo', 'text', ['latitude', 'longitude', 'lat', 'lng', 'lon', 'geolocation']),
    ],
    patterns: [],
    allowKeys: ['id', 'orderid', 'createdat', 'updatedat', 'deletedat', 'timestamp', 'ts', 'time', 'epoch',
      'epochms', 'millis', 'atmillis', 'seq', 'sequence', 'version', 'count', 'total', 'amount', 'price',
      'quantity', 'qty', 'size', 'length', 'offset', 'limit', 'page', 'traceid', 'spanid', 'requestid'],
    urlHeaders: ['referer', 'location', 'content-location', 'origin', 'refresh', 'link'],
    jwt: {
      stagingKey: '',
      claims: ['sub', 'email', 'name', 'given_name', 'family_name', 'preferred_username', 'upn', 'unique_name',
        'phone_number', 'nickname', 'oid', 'sid', 'jti', 'at_hash', 'c_hash', 'nonce', 'azp', 'address',
        'birthdate', 'ip', 'ipaddr'],
    },
    bodies: { maxBytes: 8 * 1024 * 1024, passThroughTypes: [], maxDepth: 16, cacheBytes: 16 * 1024 * 1024 },
  };
}

// ---------------------------------------------------------------------------------------------------------
// YAML parsing and validation

/** The part of npm `yaml` used here (typed locally so this module compiles without its declarations). */
interface YamlNode { range?: [number, number, number] }
interface YamlDoc {
  errors: Array<{ message: string; linePos?: Array<{ line: number; col: number }> }>;
  toJS(): unknown;
  getIn(path: Array<string | number>, keepScalar: boolean): unknown;
}
interface YamlModule {
  parseDocument(text: string, opts: Record<string, unknown>): YamlDoc;
  LineCounter: new () => { linePos(offset: number): { line: number; col: number } };
}

function loadYaml(): YamlModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require('yaml') as YamlModule;
  } catch {
    throw new RedactConfigError('redaction rules: npm package "yaml" is not installed');
  }
}

type Path = Array<string | number>;

class Validator {
  constructor(private readonly where: (p: Path) => string) {}

  fail(p: Path, msg: string): never {
    throw new RedactConfigError(`redaction rules: ${p.join('.') || '(root)'}${this.where(p)}: ${msg}`);
  }

  obj(v: unknown, p: Path, allowed: readonly string[]): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(p, 'expected a mapping');
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.fail([...p, k], `unknown key "${k}" (allowed: ${allowed.join(', ')})`);
    }
    return o;
  }

  str(v: unknown, p: Path, allowEmpty = false): string {
    if (typeof v !== 'string') this.fail(p, 'expected a string');
    if (!allowEmpty && v.length === 0) this.fail(p, 'must not be empty');
    return v;
  }

  bool(v: unknown, p: Path): boolean {
    if (typeof v !== 'boolean') this.fail(p, 'expected true or false');
    return v;
  }

  int(v: unknown, p: Path, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(p, `expected an integer in [${min}, ${max}]`);
    }
    return v;
  }

  strList(v: unknown, p: Path): string[] {
    if (!Array.isArray(v)) this.fail(p, 'expected a list of strings');
    return v.map((x, i) => this.str(x, [...p, i]));
  }

  mode(v: unknown, p: Path): Mode {
    const s = this.str(v, p);
    if (!(MODES as readonly string[]).includes(s)) this.fail(p, `unknown mode "${s}" (one of ${MODES.join(', ')})`);
    return s as Mode;
  }

  kind(v: unknown, p: Path): Kind {
    const s = this.str(v, p);
    if (!(KINDS as readonly string[]).includes(s)) this.fail(p, `unknown kind "${s}" (one of ${KINDS.join(', ')})`);
    return s as Kind;
  }
}

const TOP_KEYS = ['version', 'defaults', 'fixedToken', 'mask', 'detectors', 'headers', 'keys', 'patterns',
  'allowKeys', 'urlHeaders', 'jwt', 'bodies'] as const;
const RULE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Merges a plain JS object (the YAML document) over the defaults, validating every key.
 * `defaults: false` starts from an empty rule set (detectors disabled unless listed).
 */
export function mergeRules(input: unknown, where: (p: Path) => string = () => ''): RedactConfig {
  const v: Validator = new Validator(where);
  const cfg = defaultRedactConfig();
  if (input === null || input === undefined) return cfg;
  const o = v.obj(input, [], TOP_KEYS);
  if (o.version !== undefined && o.version !== 1) v.fail(['version'], 'only version 1 is supported');
  if (o.defaults !== undefined && !v.bool(o.defaults, ['defaults'])) {
    for (const d of BUILTIN_DETECTORS) cfg.detectors[d].enabled = false;
    cfg.headers = [];
    cfg.keys = [];
    cfg.allowKeys = [];
    cfg.urlHeaders = [];
    cfg.jwt.claims = [];
  }
  if (o.fixedToken !== undefined) cfg.fixedToken = v.str(o.fixedToken, ['fixedToken'], true);
  if (o.mask !== undefined) {
    const m = v.obj(o.mask, ['mask'], ['char', 'keepLast']);
    if (m.char !== undefined) {
      cfg.mask.char = v.str(m.char, ['mask', 'char']);
      if ([...cfg.mask.char].length !== 1) v.fail(['mask', 'char'], 'must be one character');
    }
    if (m.keepLast !== undefined) cfg.mask.keepLast = v.int(m.keepLast, ['mask', 'keepLast'], 0, 8);
  }
  if (o.detectors !== undefined) {
    const d = v.obj(o.detectors, ['detectors'], BUILTIN_DETECTORS);
    for (const name of Object.keys(d) as BuiltinDetector[]) {
      const p: Path = ['detectors', name];
      const s = d[name];
      if (typeof s === 'boolean') {
        cfg.detectors[name].enabled = s;
        continue;
      }
      const ds = v.obj(s, p, ['enabled', 'mode', 'replacement']);
      if (ds.enabled !== undefined) cfg.detectors[name].enabled = v.bool(ds.enabled, [...p, 'enabled']);
      if (ds.mode !== undefined) cfg.detectors[name].mode = v.mode(ds.mode, [...p, 'mode']);
      if (ds.replacement !== undefined) {
        cfg.detectors[name].replacement = v.str(ds.replacement, [...p, 'replacement'], true);
      }
    }
  }
  if (o.headers !== undefined) {
    if (!Array.isArray(o.headers)) v.fail(['headers'], 'expected a list of header rules');
    o.headers.forEach((h, i) => {
      const p: Path = ['headers', i];
      const r = v.obj(h, p, ['name', 'headers', 'kind', 'mode', 'replacement']);
      const name = v.str(r.name, [...p, 'name']);
      if (!RULE_NAME.test(name)) v.fail([...p, 'name'], 'rule names are 1-64 of [A-Za-z0-9_.-]');
      const headers = (r.headers === undefined ? [name] : v.strList(r.headers, [...p, 'headers']))
        .map((x) => x.toLowerCase());
      for (const [j, hn] of headers.entries()) {
        if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(hn)) v.fail([...p, 'headers', j], `"${hn}" is not a header name`);
      }
      const rule: HeaderRule = {
        name, headers,
        kind: r.kind === undefined ? 'secret' : v.kind(r.kind, [...p, 'kind']),
        mode: r.mode === undefined ? 'surrogate' : v.mode(r.mode, [...p, 'mode']),
        replacement: r.replacement === undefined ? '' : v.str(r.replacement, [...p, 'replacement'], true),
      };
      // A user rule for a header takes the header away from any built-in rule.
      for (const old of cfg.headers) old.headers = old.headers.filter((x) => !headers.includes(x));
      cfg.headers = cfg.headers.filter((x) => x.name !== name && x.headers.length > 0);
      cfg.headers.push(rule);
    });
  }
  if (o.keys !== undefined) {
    if (!Array.isArray(o.keys)) v.fail(['keys'], 'expected a list of key rules');
    o.keys.forEach((k, i) => {
      const p: Path = ['keys', i];
      const r = v.obj(k, p, ['name', 'keys', 'paths', 'kind', 'mode', 'replacement']);
      const name = v.str(r.name, [...p, 'name']);
      if (!RULE_NAME.test(name)) v.fail([...p, 'name'], 'rule names are 1-64 of [A-Za-z0-9_.-]');
      const keys = r.keys === undefined ? [] : v.strList(r.keys, [...p, 'keys']);
      const paths = r.paths === undefined ? [] : v.strList(r.paths, [...p, 'paths']);
      if (keys.length === 0 && paths.length === 0) v.fail(p, 'a key rule needs "keys" or "paths"');
      paths.forEach((jp, j) => parseJsonPath(jp, (msg) => v.fail([...p, 'paths', j], msg)));
      const nk = keys.map(normalizeKey);
      const rule: KeyRule = {
        name, keys: nk, paths,
        kind: r.kind === undefined ? 'text' : v.kind(r.kind, [...p, 'kind']),
        mode: r.mode === undefined ? 'surrogate' : v.mode(r.mode, [...p, 'mode']),
        replacement: r.replacement === undefined ? '' : v.str(r.replacement, [...p, 'replacement'], true),
      };
      for (const old of cfg.keys) old.keys = old.keys.filter((x) => !nk.includes(x));
      cfg.keys = cfg.keys.filter((x) => x.name !== name && (x.keys.length > 0 || x.paths.length > 0));
      cfg.keys.push(rule);
    });
  }
  if (o.patterns !== undefined) {
    if (!Array.isArray(o.patterns)) v.fail(['patterns'], 'expected a list of pattern rules');
    const seen = new Set<string>();
    o.patterns.forEach((x, i) => {
      const p: Path = ['patterns', i];
      const r = v.obj(x, p, ['name', 'pattern', 'flags', 'mode', 'replacement']);
      const name = v.str(r.name, [...p, 'name']);
      if (!RULE_NAME.test(name)) v.fail([...p, 'name'], 'rule names are 1-64 of [A-Za-z0-9_.-]');
      if (seen.has(name)) v.fail([...p, 'name'], `duplicate pattern name "${name}"`);
      seen.add(name);
      const flags = r.flags === undefined ? '' : v.str(r.flags, [...p, 'flags'], true);
      if (!/^i?$/.test(flags)) v.fail([...p, 'flags'], 'only the flag "i" is supported');
      cfg.patterns.push({
        name,
        pattern: v.str(r.pattern, [...p, 'pattern']),
        flags,
        mode: r.mode === undefined ? 'surrogate' : v.mode(r.mode, [...p, 'mode']),
        replacement: r.replacement === undefined ? '' : v.str(r.replacement, [...p, 'replacement'], true),
      });
    });
  }
  if (o.allowKeys !== undefined) {
    cfg.allowKeys = [...cfg.allowKeys, ...v.strList(o.allowKeys, ['allowKeys']).map(normalizeKey)];
  }
  if (o.urlHeaders !== undefined) {
    cfg.urlHeaders = [...cfg.urlHeaders, ...v.strList(o.urlHeaders, ['urlHeaders']).map((x) => x.toLowerCase())];
  }
  if (o.jwt !== undefined) {
    const j = v.obj(o.jwt, ['jwt'], ['stagingKey', 'claims']);
    if (j.stagingKey !== undefined) {
      cfg.jwt.stagingKey = v.str(j.stagingKey, ['jwt', 'stagingKey'], true);
      if (cfg.jwt.stagingKey.length > 0 && cfg.jwt.stagingKey.length < 16) {
        v.fail(['jwt', 'stagingKey'], 'must be at least 16 characters');
      }
    }
    if (j.claims !== undefined) cfg.jwt.claims = [...cfg.jwt.claims, ...v.strList(j.claims, ['jwt', 'claims'])];
  }
  if (o.bodies !== undefined) {
    const b = v.obj(o.bodies, ['bodies'], ['maxBytes', 'passThroughTypes', 'maxDepth', 'cacheBytes']);
    if (b.maxBytes !== undefined) cfg.bodies.maxBytes = v.int(b.maxBytes, ['bodies', 'maxBytes'], 0, 1 << 30);
    if (b.maxDepth !== undefined) cfg.bodies.maxDepth = v.int(b.maxDepth, ['bodies', 'maxDepth'], 1, 64);
    if (b.cacheBytes !== undefined) cfg.bodies.cacheBytes = v.int(b.cacheBytes, ['bodies', 'cacheBytes'], 0, 1 << 30);
    if (b.passThroughTypes !== undefined) {
      cfg.bodies.passThroughTypes = v.strList(b.passThroughTypes, ['bodies', 'passThroughTypes'])
        .map((x) => x.toLowerCase());
      cfg.bodies.passThroughTypes.forEach((t, i) => {
        if (!/^[a-z0-9!#$&^_.+-]+\/(\*|[a-z0-9!#$&^_.+-]+)$/.test(t)) {
          v.fail(['bodies', 'passThroughTypes', i], `"${t}" is not a media type`);
        }
      });
    }
  }
  return cfg;
}

/** Parses and validates a rules YAML text (throws RedactConfigError with a message naming the bad key/line). */
export function parseRedactRules(yamlText: string): RedactConfig {
  const Y = loadYaml();
  const lc = new Y.LineCounter();
  const doc = Y.parseDocument(yamlText, { lineCounter: lc, prettyErrors: true, uniqueKeys: true, merge: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0];
    throw new RedactConfigError(`redaction rules: YAML error${pos ? ` at line ${pos.line}` : ''}: ${e.message}`);
  }
  const where = (p: Path): string => {
    for (let n = p.length; n >= 0; n--) {
      const node = doc.getIn(p.slice(0, n), true) as YamlNode | undefined;
      if (node && Array.isArray(node.range)) return ` (line ${lc.linePos(node.range[0]).line})`;
    }
    return '';
  };
  return mergeRules(doc.toJS(), where);
}

// ---------------------------------------------------------------------------------------------------------
// JSON paths

/** One path segment: a member name, `*` (any member or element) or `[]` (any array element). */
export type PathSeg = string;

/** `$.a.b[*].c` → ['a', 'b', '[]', 'c']; `*` stays `*`. Calls fail() on syntax errors. */
export function parseJsonPath(p: string, fail: (msg: string) => never): PathSeg[] {
  let s = p.trim();
  if (s.startsWith('$')) s = s.slice(1);
  const out: PathSeg[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '.') {
      let j = i + 1;
      while (j < s.length && s[j] !== '.' && s[j] !== '[') j++;
      const name = s.slice(i + 1, j);
      if (name.length === 0) fail(`empty segment in JSON path "${p}"`);
      out.push(name);
      i = j;
    } else if (c === '[') {
      const j = s.indexOf(']', i);
      if (j < 0) fail(`unclosed "[" in JSON path "${p}"`);
      const inner = s.slice(i + 1, j).trim();
      if (inner === '*' || inner === '') out.push('[]');
      else if (/^\d+$/.test(inner)) out.push('[]');
      else if (/^(['"]).*\1$/.test(inner)) out.push(inner.slice(1, -1));
      else fail(`unsupported selector "[${inner}]" in JSON path "${p}"`);
      i = j + 1;
    } else if (i === 0) {
      let j = 0;
      while (j < s.length && s[j] !== '.' && s[j] !== '[') j++;
      out.push(s.slice(0, j));
      i = j;
    } else {
      fail(`unexpected "${c}" in JSON path "${p}"`);
    }
  }
  if (out.length === 0) fail(`JSON path "${p}" selects the whole document`);
  return out;
}
