/**
 * User detectors: RE2 patterns (npm `re2`, linear time). A pattern RE2 cannot compile is rejected at start.
 * When the `re2` binding cannot be loaded, patterns are checked by a conservative linearity filter
 * (no backreferences, no look-around, no quantified group that itself contains a quantifier or an
 * alternation, no unbounded repeat counts above 1000) and then run on V8 RegExp; `re2Available()` says which.
 */
import type { PatternRule } from './config';
import { RedactConfigError } from './errors';

export interface CompiledPattern {
  rule: PatternRule;
  /** Global regex (RE2 or RegExp) with `lastIndex`/`exec` semantics. */
  re: { lastIndex: number; exec(s: string): RegExpExecArray | null };
}

type Re2Ctor = new (pattern: string, flags: string) => { lastIndex: number; exec(s: string): RegExpExecArray | null };

let re2Ctor: Re2Ctor | null | undefined;

/** The `re2` constructor, or null when the binding is not installed / not built. */
export function loadRe2(): Re2Ctor | null {
  if (re2Ctor === undefined) {
    try {
      re2Ctor = require('re2') as Re2Ctor;
    } catch {
      re2Ctor = null;
    }
  }
  return re2Ctor;
}

export function re2Available(): boolean {
  return loadRe2() !== null;
}

/**
 * Rejects constructs that make a backtracking engine super-linear. Returns a reason or undefined.
 * Scans the pattern once, tracking groups on a stack.
 */
export function nonLinearReason(p: string): string | undefined {
  interface G { hasQuant: boolean; hasAlt: boolean }
  const stack: G[] = [{ hasQuant: false, hasAlt: false }];
  let i = 0;
  let lastGroup: G | undefined;
  while (i < p.length) {
    const c = p[i];
    if (c === '\\') {
      const n = p[i + 1] ?? '';
      if (/[1-9]/.test(n) || n === 'k') return 'backreferences are not supported';
      i += 2;
      lastGroup = undefined;
      continue;
    }
    if (c === '[') {
      // skip a character class
      let j = i + 1;
      if (p[j] === '^') j++;
      if (p[j] === ']') j++;
      while (j < p.length && p[j] !== ']') j += p[j] === '\\' ? 2 : 1;
      i = j + 1;
      lastGroup = undefined;
      continue;
    }
    if (c === '(') {
      if (p.startsWith('(?=', i) || p.startsWith('(?!', i) || p.startsWith('(?<=', i) || p.startsWith('(?<!', i)) {
        return 'look-around is not supported';
      }
      stack.push({ hasQuant: false, hasAlt: false });
      i++;
      if (p[i] === '?') {
        // (?: (?<name> (?P<name> (?i)
        while (i < p.length && p[i] !== ':' && p[i] !== '>' && p[i] !== ')') i++;
        if (p[i] === ':' || p[i] === '>') i++;
        else if (p[i] === ')') {
          stack.pop();
          i++;
        }
      }
      lastGroup = undefined;
      continue;
    }
    if (c === ')') {
      const g = stack.pop();
      if (g === undefined || stack.length === 0) return 'unbalanced parenthesis';
      const parent = stack[stack.length - 1];
      if (g.hasQuant) parent.hasQuant = true;
      lastGroup = g;
      i++;
      continue;
    }
    if (c === '|') {
      stack[stack.length - 1].hasAlt = true;
      i++;
      lastGroup = undefined;
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || c === '{') {
      let unbounded = c !== '?';
      let j = i + 1;
      if (c === '{') {
        const m = /^\{(\d*)(,?)(\d*)\}/.exec(p.slice(i));
        if (m === null) {
          i++;
          continue;
        }
        if (Number(m[1] || 0) > 1000 || Number(m[3] || 0) > 1000) return 'repeat counts above 1000 are not supported';
        unbounded = m[2] === ',' ? m[3] === '' || Number(m[3]) > 1 : Number(m[1]) > 1;
        j = i + m[0].length;
      }
      if (p[j] === '?' || p[j] === '+') j++;
      if (lastGroup !== undefined && unbounded && (lastGroup.hasQuant || lastGroup.hasAlt)) {
        return 'a repeated group containing a quantifier or an alternation is not supported without RE2';
      }
      stack[stack.length - 1].hasQuant = true;
      lastGroup = undefined;
      i = j;
      continue;
    }
    lastGroup = undefined;
    i++;
  }
  if (stack.length !== 1) return 'unbalanced parenthesis';
  return undefined;
}

/** Compiles every user pattern; throws RedactConfigError naming the first bad one. */
export function compilePatterns(rules: readonly PatternRule[]): CompiledPattern[] {
  const RE2 = loadRe2();
  return rules.map((rule, i) => {
    const where = `redaction rules: patterns.${i} ("${rule.name}")`;
    let src = rule.pattern;
    let flags = 'g' + rule.flags;
    // RE2's leading inline flag (?i) → flag i for either engine.
    if (src.startsWith('(?i)')) {
      src = src.slice(4);
      if (!flags.includes('i')) flags += 'i';
    }
    let re: CompiledPattern['re'];
    if (RE2 !== null) {
      try {
        re = new RE2(src, flags + 'u');
      } catch (e) {
        throw new RedactConfigError(`${where}: RE2 cannot compile the pattern: ${(e as Error).message}`);
      }
    } else {
      const why = nonLinearReason(src);
      if (why !== undefined) throw new RedactConfigError(`${where}: ${why}`);
      try {
        re = new RegExp(src.replace(/\(\?P</g, '(?<'), flags + 'u');
      } catch (e) {
        throw new RedactConfigError(`${where}: invalid pattern: ${(e as Error).message}`);
      }
    }
    // A pattern that matches the empty string would "redact" nothing forever: reject it.
    re.lastIndex = 0;
    const m = re.exec('');
    re.lastIndex = 0;
    if (m !== null && m[0].length === 0) throw new RedactConfigError(`${where}: the pattern matches the empty string`);
    return { rule, re };
  });
}
