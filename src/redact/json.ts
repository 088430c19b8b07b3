/**
 * JSON walker: a validating single-pass tokenizer over the text that records edits instead of building a
 * tree, so untouched bytes (number spellings, whitespace, escapes, key order) stay exactly as captured and
 * a body without findings is returned as the same string. Key rules apply by member name (normalised) and
 * by JSON path; a rule on an object/array applies to every leaf below it; `drop` removes the member.
 * Value detectors run on every string (keys included) and every integer that could be a card.
 * Fails (returns undefined) on invalid JSON or nesting deeper than MAX_NESTING.
 */
import type { KeyRule } from './config';
import type { Ctx } from './ctx';
import { surrogateCard } from './surrogates';
import { prescan } from './prescan';
import { applyKeyRule, applyKeyRuleNumber, REDACT_TEXT_FLAGS, redactText } from './text';
import { isCard } from './validators';

const MAX_NESTING = 512;

class JsonFail extends Error {}
const FAIL = new JsonFail('json');

function digitsEnd(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) i++;
    else return i;
  }
}

/** End of the JSON number at `i`: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? (throws FAIL if there is none). */
function numberEnd(s: string, i: number): number {
  if (s.charCodeAt(i) === 45) i++;
  const c = s.charCodeAt(i);
  if (c === 48) i++;
  else if (c >= 49 && c <= 57) i = digitsEnd(s, i + 1);
  else throw FAIL;
  if (s.charCodeAt(i) === 46) {
    const e = digitsEnd(s, i + 1);
    if (e > i + 1) i = e; // "1." is not part of the number (the caller then fails on the '.')
  }
  const x = s.charCodeAt(i);
  if (x === 101 || x === 69) {
    let k = i + 1;
    const sg = s.charCodeAt(k);
    if (sg === 43 || sg === 45) k++;
    const e = digitsEnd(s, k);
    if (e > k) i = e;
  }
  return i;
}

/**
 * JSON.stringify(v) for a string: quotes added by hand when nothing in it needs an escape (a quote, a
 * backslash, a control character, any UTF-16 surrogate: JSON.stringify escapes lone ones), which is the case
 * for every surrogate value; JSON.stringify otherwise.
 */
export function jsonString(v: string): string {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 32 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(v);
  }
  return '"' + v + '"';
}

interface Edit { start: number; end: number; repl: string }
interface Member { start: number; end: number; drop: boolean }

class Walker {
  i = 0;
  readonly edits: Edit[] = [];
  readonly path: string[] = [];
  /** Member spans of the open objects: start (or -1 - start when dropped), end. */
  private readonly spans: number[] = [];
  private nest = 0;
  private readonly usePaths: boolean;
  /** No user patterns: the pre-scan decides for the built-in detectors alone (see redactText). */
  private readonly quiet: boolean;

  constructor(
    private readonly ctx: Ctx,
    private readonly s: string,
    private readonly topRule: ((k: string) => KeyRule | undefined) | undefined,
  ) {
    this.usePaths = ctx.pathRules.length > 0;
    this.quiet = ctx.patterns.length === 0;
  }

  ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
    this.i = i;
  }

  /** Set when an edit went in out of order (personName): the edits are sorted before they are applied. */
  unsorted = false;

  /** Set by strSpan: the last string scanned has a backslash escape. */
  private escaped = false;

  /** Reads a string at `i` (which is a quote); returns its decoded value, leaves `i` after it. */
  str(): string {
    const s = this.s;
    const start = this.i;
    const j = this.strSpan();
    if (!this.escaped) return s.slice(start + 1, j);
    try {
      return JSON.parse(s.slice(start, j + 1)) as string;
    } catch {
      throw FAIL;
    }
  }

  /**
   * Scans the string at `i` (which is a quote) without decoding it: leaves `i` after it, returns the index of
   * the closing quote, sets `escaped`. Throws FAIL on raw control characters or a missing closing quote.
   */
  strSpan(): number {
    const s = this.s;
    const start = this.i;
    const n = s.length;
    let j = start + 1;
    let escaped = false;
    // One pass: the closing quote, raw control characters (invalid JSON) and whether any escape occurs.
    for (;;) {
      if (j >= n) throw FAIL;
      const c = s.charCodeAt(j);
      if (c === 34) break;
      if (c === 92) {
        escaped = true;
        j += 2;
        continue;
      }
      if (c < 32) throw FAIL;
      j++;
    }
    this.i = j + 1;
    this.escaped = escaped;
    return j;
  }

  edit(start: number, end: number, repl: string): void {
    this.edits.push({ start, end, repl });
  }

  /** `person`: the value is that of a person-like key (a bare `name` in an object here is a person's name). */
  value(rule: KeyRule | undefined, numeric: boolean, skip: boolean, person = false): void {
    const s = this.s;
    const c = s.charCodeAt(this.i);
    if (c === 34) {
      const start = this.i;
      if (rule === undefined && this.quiet) {
        // Without escapes the text is the value: a span in which the pre-scan finds nothing is left as it is,
        // exactly as redactText would, without building the string (most values of most bodies).
        const j = this.strSpan();
        if (!this.escaped && (skip || j - start - 1 < 3 || (prescan(s, start + 1, j) & REDACT_TEXT_FLAGS) === 0)) return;
        this.i = start;
      }
      const v = this.str();
      if (skip) return;
      const r = rule !== undefined ? applyKeyRule(this.ctx, rule, v) : redactText(this.ctx, v, numeric);
      if (r !== v) this.edit(start, this.i, jsonString(r));
      return;
    }
    if (c === 123) return this.object(rule, numeric, skip, person);
    if (c === 91) return this.array(rule, numeric, skip, person);
    if (c === 45 || (c >= 48 && c <= 57)) {
      const start = this.i;
      this.i = numberEnd(s, start);
      if (skip) return;
      const len = this.i - start;
      if (rule !== undefined) {
        this.edit(start, this.i, applyKeyRuleNumber(this.ctx, rule, s.slice(start, this.i)));
        return;
      }
      if (!numeric || len < 12 || len > 19 || !this.ctx.enabled.card) return; // no detector takes it: no string built
      const num = s.slice(start, this.i);
      if (isCard(num)) {
        this.ctx.hit('card');
        const setting = this.ctx.cfg.detectors.card;
        const r = this.ctx.byMode(setting.mode, setting.replacement, num);
        this.edit(start, this.i, r === undefined ? surrogateCard(this.ctx.keyed, num) : setting.mode === 'drop' ? 'null' : JSON.stringify(r));
      }
      return;
    }
    if (s.startsWith('true', this.i)) this.i += 4;
    else if (s.startsWith('false', this.i)) this.i += 5;
    else if (s.startsWith('null', this.i)) this.i += 4;
    else throw FAIL;
  }

  object(inherited: KeyRule | undefined, numeric: boolean, skip: boolean, person: boolean): void {
    if (++this.nest > MAX_NESTING) throw FAIL;
    const s = this.s;
    const ctx = this.ctx;
    const editMark = this.edits.length;
    const top = this.nest === 1;
    this.i++;
    this.ws();
    // Member spans (start, end) are recorded on a shared stack, only needed when a member is dropped.
    const spans = this.spans;
    const spanMark = spans.length;
    let anyDrop = false;
    // A bare `name` string member, replaced at the end of the object if the object turns out to be a person's
    // (under a person-like key, or with an email/phone/address/… member before or after it).
    let names: number[] | undefined; // start and end of each
    let personEvidence = false;
    if (s.charCodeAt(this.i) === 125) {
      this.i++;
      this.nest--;
      return;
    }
    for (;;) {
      if (s.charCodeAt(this.i) !== 34) throw FAIL;
      const keyStart = this.i;
      const keyQuote = this.strSpan();
      const keyEnd = this.i;
      // The name as a string only when something needs it (escapes, paths, the top rule, scanning the name).
      let key: string | undefined;
      if (this.escaped) {
        this.i = keyStart;
        key = this.str();
      }
      const info = key === undefined ? ctx.keyInfoAt(s, keyStart + 1, keyQuote) : ctx.keyInfo(key);
      if (key === undefined && (this.usePaths || (top && this.topRule !== undefined) || (!skip && info.scan))) {
        key = s.slice(keyStart + 1, keyQuote);
      }
      if (!skip && info.scan) {
        const rk = redactText(ctx, key!);
        if (rk !== key) this.edit(keyStart, keyEnd, jsonString(rk));
      }
      this.ws();
      if (s.charCodeAt(this.i) !== 58) throw FAIL;
      this.i++;
      this.ws();
      if (this.usePaths) this.path.push(key!);
      let rule = inherited;
      if (rule === undefined && !skip) {
        rule = (top && this.topRule !== undefined ? this.topRule(key!) : undefined)
          ?? (this.usePaths ? ctx.pathRule(this.path) : undefined)
          ?? info.rule;
      }
      const drop = !skip && inherited === undefined && rule !== undefined && rule.mode === 'drop';
      if (drop) {
        ctx.ruleHit('key', rule!);
        anyDrop = true;
      }
      if (info.personEvidence) personEvidence = true;
      const valueStart = this.i;
      this.value(rule, numeric && !info.allow, skip || drop, info.person);
      if (info.bareName && rule === undefined && !skip && s.charCodeAt(valueStart) === 34) (names ??= []).push(valueStart, this.i);
      if (this.usePaths) this.path.pop();
      spans.push(drop ? -1 - keyStart : keyStart, this.i);
      this.ws();
      const c = s.charCodeAt(this.i);
      if (c === 44) {
        this.i++;
        this.ws();
        continue;
      }
      if (c === 125) {
        this.i++;
        break;
      }
      throw FAIL;
    }
    this.nest--;
    if (names !== undefined && (person || personEvidence)) {
      for (let k = 0; k < names.length; k += 2) this.personName(names[k], names[k + 1], editMark);
    }
    if (anyDrop) {
      const members: Member[] = [];
      for (let k = spanMark; k < spans.length; k += 2) {
        const st = spans[k];
        members.push(st < 0 ? { start: -1 - st, end: spans[k + 1], drop: true } : { start: st, end: spans[k + 1], drop: false });
      }
      this.applyDrops(editMark, members);
    }
    spans.length = spanMark;
  }

  /**
   * Replaces the string value at [start, end) as a person's name (the rule that takes fullName). The edits the
   * detectors made inside it (made since index `edits`, the object's first, and falling in the span) give way
   * to the whole value's.
   */
  private personName(start: number, end: number, edits: number): void {
    const rule = this.ctx.personNameRule;
    if (rule === undefined) return;
    let v: string;
    try {
      v = JSON.parse(this.s.slice(start, end)) as string;
    } catch {
      return;
    }
    const r = applyKeyRule(this.ctx, rule, v);
    if (r === v) return;
    const list = this.edits;
    for (let k = list.length - 1; k >= edits; k--) if (list[k].start >= start && list[k].end <= end) list.splice(k, 1);
    list.push({ start, end, repl: jsonString(r) });
    this.unsorted = true;
  }

  /** Removes dropped members (and the right commas) and the edits that fell inside them. */
  private applyDrops(editMark: number, members: Member[]): void {
    const tail = this.edits.splice(editMark);
    const inDropped = (e: Edit): boolean => members.some((m) => m.drop && e.start >= m.start && e.end <= m.end);
    const keep = tail.filter((e) => !inDropped(e));
    const k = members.length;
    let i = 0;
    while (i < k) {
      if (!members[i].drop) {
        i++;
        continue;
      }
      let j = i;
      while (j + 1 < k && members[j + 1].drop) j++;
      if (j + 1 < k) keep.push({ start: members[i].start, end: members[j + 1].start, repl: '' });
      else if (i > 0) keep.push({ start: members[i - 1].end, end: members[j].end, repl: '' });
      else keep.push({ start: members[0].start, end: members[k - 1].end, repl: '' });
      i = j + 1;
    }
    keep.sort((a, b) => a.start - b.start);
    for (const e of keep) this.edits.push(e);
  }

  array(rule: KeyRule | undefined, numeric: boolean, skip: boolean, person: boolean): void {
    if (++this.nest > MAX_NESTING) throw FAIL;
    const s = this.s;
    this.i++;
    this.ws();
    if (s.charCodeAt(this.i) === 93) {
      this.i++;
      this.nest--;
      return;
    }
    if (this.usePaths) this.path.push('[]');
    for (;;) {
      let r = rule;
      if (r === undefined && !skip && this.usePaths) r = this.ctx.pathRule(this.path);
      if (r !== undefined && r !== rule && r.mode === 'drop') {
        this.ctx.ruleHit('key', r);
        const start = this.i;
        this.value(undefined, numeric, true);
        this.edit(start, this.i, 'null');
      } else {
        this.value(r, numeric, skip, person);
      }
      this.ws();
      const c = s.charCodeAt(this.i);
      if (c === 44) {
        this.i++;
        this.ws();
        continue;
      }
      if (c === 93) {
        this.i++;
        break;
      }
      throw FAIL;
    }
    if (this.usePaths) this.path.pop();
    this.nest--;
  }
}

/**
 * Redacts a JSON text. Returns the same string when nothing changed, undefined when it is not JSON.
 * `nested` = true for JSON found inside a string (must be an object or array).
 * `topRule` adds member rules for the top-level object only (JWT claims).
 */
export function redactJsonText(
  ctx: Ctx, text: string, nested: boolean, topRule?: (k: string) => KeyRule | undefined,
): string | undefined {
  const w = new Walker(ctx, text, topRule);
  try {
    w.ws();
    if (text.charCodeAt(w.i) === 0xfeff && !nested) {
      w.i++;
      w.ws();
    }
    const c = text.charCodeAt(w.i);
    if (nested && c !== 123 && c !== 91) return undefined;
    if (w.i >= text.length) return undefined;
    w.value(undefined, true, false);
    w.ws();
    if (w.i !== text.length) return undefined;
  } catch (e) {
    if (e instanceof JsonFail) return undefined;
    throw e;
  }
  if (w.edits.length === 0) return text;
  if (w.unsorted) w.edits.sort((a, b) => a.start - b.start);
  let out = '';
  let last = 0;
  for (const e of w.edits) {
    out += text.slice(last, e.start) + e.repl;
    last = e.end;
  }
  return out + text.slice(last);
}
