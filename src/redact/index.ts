/**
 * The redactor: every exchange passes `Redactor.redact` before any output sees it.
 * See README.md in this folder for the model (what is detected, how it is replaced, what fails closed)
 * and default-rules.yaml for the rules schema.
 */
export { RedactConfigError } from './errors';
export type { RedactConfig, Mode, Kind, BuiltinDetector, KeyRule, HeaderRule, PatternRule, DetectorSetting } from './config';
export { parseRedactRules, defaultRedactConfig, mergeRules } from './config';
export { loadOrCreateKey, defaultKeyFile } from './key';
export type { Redactor } from './redactor';
export { compileRedactor } from './redactor';
export { re2Available } from './patterns';
