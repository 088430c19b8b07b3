/**
 * SIGTERM and SIGINT for the long-running modes, caught from the moment the command starts, not only once
 * it captures: a pod deleted while its agent is still loading its rules or binding its sockets then ends
 * with a clean shutdown and exit 0, not with the default signal death (exit 143). Made once per run by
 * main() before the command's modules load; runLive waits on it once started.
 */
export class ShutdownSignal {
  /** The signal's name once one came. */
  readonly received: Promise<string>;
  private resolve: (why: string) => void = () => undefined;
  private readonly onTerm = (): void => this.resolve('SIGTERM');
  private readonly onInt = (): void => this.resolve('SIGINT');

  constructor() {
    this.received = new Promise<string>((resolve) => (this.resolve = resolve));
    process.once('SIGTERM', this.onTerm);
    process.once('SIGINT', this.onInt);
  }

  /** Gives the signals back to their default handling. */
  dispose(): void {
    process.removeListener('SIGTERM', this.onTerm);
    process.removeListener('SIGINT', this.onInt);
  }
}
