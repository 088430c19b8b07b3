import { ShadowtapError, EXIT_USAGE } from '../errors';
import { VERSION } from '../version';
import { ShutdownSignal } from '../live/shutdown-signal';

const USAGE = `shadowtap ${VERSION}: capture HTTP traffic for replay, redacted on the spot

Usage:
  shadowtap read FILE|- [options]        pcap/pcapng file (or stdin) -> exchanges
  shadowtap mirror [options]             AWS VPC Traffic Mirroring target (VXLAN 4789, GENEVE 6081)
  shadowtap sniff -i IFACE [options]     live capture with libpcap (node DaemonSet)
  shadowtap collect --listen ADDR:PORT --store DIR   the reference replay service
  shadowtap inspect DIR [--format jsonl|har|table]   what the collector stored
  shadowtap --help | --version

Run \`shadowtap read --help\` for the options of a command. See README.md.
`;

/** Runs the CLI; resolves to the process exit status. Errors with a code become one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    // Each command's modules are loaded when it runs: a `read` does not pay for the live, delivery and
    // collector code (measured: ~200 ms of start-up).
    switch (cmd) {
      case 'read':
        return await (await import('./read-command')).runRead(rest);
      case 'mirror':
      case 'sniff': {
        // Caught before the command's modules load: a SIGTERM while the agent starts is a clean shutdown.
        const shutdown = new ShutdownSignal();
        try {
          return cmd === 'mirror'
            ? await (await import('./mirror-command')).runMirror(rest, shutdown)
            : await (await import('./sniff-command')).runSniff(rest, shutdown);
        } finally {
          shutdown.dispose();
        }
      }
      case 'collect':
        return await (await import('./collect-command')).runCollect(rest);
      case 'inspect':
        return await (await import('./inspect-command')).runInspect(rest);
      case '--version':
      case '-V':
        process.stdout.write(VERSION + '\n');
        return 0;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(USAGE);
        return cmd === undefined ? EXIT_USAGE : 0;
      default:
        throw new ShadowtapError('CAP_ERR_USAGE', `unknown command "${cmd}"; try: shadowtap --help`, EXIT_USAGE);
    }
  } catch (err) {
    if (err instanceof ShadowtapError) {
      process.stderr.write(`shadowtap: ${err.message}\n`);
      return err.exitCode;
    }
    // node:util parseArgs: unknown option, missing or dash-led option value, unexpected positional.
    if (err instanceof Error && /^ERR_PARSE_ARGS_/.test(String((err as { code?: string }).code))) {
      process.stderr.write(`shadowtap: ${err.message.split('\n').join(' ')}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}
