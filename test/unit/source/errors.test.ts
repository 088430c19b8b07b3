/** Fatal inputs give a CaptureError with a stable code and the offset of the bad record. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CaptureError, createCaptureReader } from '../../../src/source/capture-reader';
import { collect, corpusFile, HAVE_CORPUS, NO_CORPUS_REASON } from './helpers';

const hex = (s: string): Buffer => Buffer.from(s.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
const PCAP_HEADER = 'd4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000';
const SHB_LE = '0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000';
const IDB_LE = '01000000 14000000 0100 0000 00000000 14000000';

function fails(input: Buffer, code: string, offset?: number): CaptureError {
  for (const chunking of [undefined, () => 1, () => 5]) {
    const got = collect(input, chunking);
    assert.ok(got.error !== undefined, `expected ${code}, got ${JSON.stringify(got.end)}`);
    assert.equal(got.error.code, code, got.error.message);
    if (offset !== undefined) assert.equal(got.error.offset, offset, got.error.message);
  }
  return collect(input).error as CaptureError;
}

describe('not a capture / empty', () => {
  it('empty input: CAP_ERR_EMPTY from end()', () => {
    const r = createCaptureReader({ onFrame() {} });
    r.push(Buffer.alloc(0));
    assert.throws(() => r.end(), (e: unknown) => e instanceof CaptureError && e.code === 'CAP_ERR_EMPTY');
  });

  it('text: names the first bytes and the accepted formats', () => {
    const e = fails(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'CAP_ERR_NOT_A_CAPTURE', 0);
    assert.match(e.message, /47 45 54 20 2f 20 48 54/);
    assert.match(e.message, /a1b2c3d4/);
    assert.match(e.message, /a1b23c4d/);
    assert.match(e.message, /pcapng/);
  });

  it('gzip: says so', () => {
    const e = fails(hex('1f8b0800 00000000 0003 cbc8 0400'), 'CAP_ERR_NOT_A_CAPTURE', 0);
    assert.match(e.message, /gzip/);
  });

  it('shorter than a magic number', () => {
    fails(hex('d4c3b2'), 'CAP_ERR_NOT_A_CAPTURE', 0);
  });

  it('pcapng-looking start with a bad byte-order magic', () => {
    fails(hex('0a0d0d0a 1c000000 11223344 0100 0000 ffffffffffffffff 1c000000'), 'CAP_ERR_NOT_A_CAPTURE', 0);
  });

  it('after a fatal error, push() rethrows the same error and nothing more is delivered', () => {
    let frames = 0;
    const r = createCaptureReader({ onFrame: () => frames++ });
    const input = hex(`${PCAP_HEADER} 00000000 00000000 01000000 01000000 aa   00000000 00000000 01000010 01000010`);
    let first: unknown;
    try {
      r.push(input);
    } catch (e) {
      first = e;
    }
    assert.ok(first instanceof CaptureError && first.code === 'CAP_ERR_BAD_RECORD' && first.offset === 41);
    assert.equal(frames, 1);
    assert.throws(() => r.push(hex('00000000')), (e: unknown) => e === first);
    assert.deepEqual(r.end(), { format: 'pcap', records: 1, bytes: input.length });
  });
});

describe('unsupported versions', () => {
  it('libpcap pcap-invalid-version-1.pcap (version 1.4)', { skip: HAVE_CORPUS ? false : NO_CORPUS_REASON }, () => {
    const e = fails(corpusFile('libpcap/pcap-invalid-version-1.pcap'), 'CAP_ERR_UNSUPPORTED_VERSION', 4);
    assert.match(e.message, /1\.4/);
  });
  it('pcapng section version 2.0', () => {
    fails(hex('0a0d0d0a 1c000000 4d3c2b1a 0200 0000 ffffffffffffffff 1c000000'), 'CAP_ERR_UNSUPPORTED_VERSION', 0);
  });
});

describe('impossible record lengths', () => {
  it('pcap caplen over 256 MiB, with the record offset', () => {
    fails(hex(`${PCAP_HEADER} 00000000 00000000 01000010 01000010`), 'CAP_ERR_BAD_RECORD', 24);
  });
  it('pcapng block length not a multiple of 4', () => {
    fails(hex(`${SHB_LE} ${IDB_LE} 06000000 21000000 ${'00'.repeat(25)} 21000000`), 'CAP_ERR_BAD_RECORD', 48);
  });
  it('pcapng block length below 12', () => {
    fails(hex(`${SHB_LE} 04000000 08000000 08000000`), 'CAP_ERR_BAD_RECORD', 28);
  });
  it('pcapng block length over the limit', () => {
    fails(hex(`${SHB_LE} 06000000 00000120 00000000`), 'CAP_ERR_BAD_RECORD', 28);
  });
  it('pcapng trailer mismatch', () => {
    fails(hex(`${SHB_LE} 04000000 10000000 00000000 14000000`), 'CAP_ERR_BAD_RECORD', 28);
  });
  it('pcapng section header too short', () => {
    fails(hex('0a0d0d0a 18000000 4d3c2b1a 0100 0000 00000000 18000000'), 'CAP_ERR_BAD_RECORD', 0);
  });
  it('pcapng second section with a bad byte-order magic', () => {
    fails(hex(`${SHB_LE} 0a0d0d0a 1c000000 11223344 0100 0000 ffffffffffffffff 1c000000`), 'CAP_ERR_BAD_RECORD', 28);
  });
});
