/**
 * Errors with stable codes (undici style). Thrown only for bad configuration, unusable input or
 * bugs; bad packets are counted, never thrown.
 */
export class ShadowtapError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Process exit status the CLI uses for this error. */
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'ShadowtapError';
  }
}

/** CLI exit statuses (documented in README.md). */
export const EXIT_OK = 0;
export const EXIT_USAGE = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_TRUNCATED_INPUT = 3;
export const EXIT_OUTPUT_FAILED = 4;
/** A part of the program failed (a `read --threads` worker thread): a bug, reported with its message. */
export const EXIT_INTERNAL = 5;
