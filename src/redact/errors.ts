/** Bad redaction rules: thrown at start (parse / compile), never while redacting. */
export class RedactConfigError extends Error {
  readonly code = 'CAP_ERR_REDACT_RULES';
  constructor(message: string) {
    super(message);
    this.name = 'RedactConfigError';
  }
}
