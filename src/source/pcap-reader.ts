/**
 * Classic libpcap file format (https://www.tcpdump.org/manpages/pcap-savefile.5.html, IETF draft-ietf-opsawg-pcap).
 *
 *  File header (24 bytes, in the byte order given by the magic):
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          magic a1b2c3d4 (µs) or a1b23c4d (ns)                 |  0
 *  |     major version (2)         |     minor version (4)         |  4
 *  |              thiszone (ignored, always 0 in practice)         |  8
 *  |              sigfigs (ignored)                                | 12
 *  |              snaplen                                          | 16
 *  | FCS info (bits 28-31, 26)  |  reserved  |   LINKTYPE (16 bit) | 20
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  Record header (16 bytes), then caplen bytes of frame:
 *  |  ts seconds  |  ts µs or ns  |  caplen (incl_len)  |  orig_len (wire length)  |
 *
 * Records are handed out in place: frame.buf is the caller's buffer (BORROWED until onFrame returns). One Frame object
 * is reused; no allocation per record.
 */
import type { CaptureFormat, CaptureReaderEvents, FormatParser } from './capture-reader';
import { newFrame, type Frame } from './frame';

const PCAP_FILE_HEADER_LEN = 24;
const PCAP_RECORD_HEADER_LEN = 16;
/** Mirrors MAX_RECORD_BYTES in capture-reader.ts (kept local to avoid a runtime import cycle). */
const MAX_CAPLEN = 256 * 1024 * 1024;
const LINKTYPE_MASK = 0xffff;

/* Byte-wise readers: tiny enough to be inlined everywhere. Buffer#readUInt32LE is a larger JS builtin that
 * TurboFan does not always inline, and a uint32 >= 2^31 returned from a call is boxed (one heap number per call). */
function u32(b: Buffer, o: number, le: boolean): number {
  return le
    ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0
    : ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function u16(b: Buffer, o: number, le: boolean): number {
  return le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
}

export class PcapParser implements FormatParser {
  readonly format: CaptureFormat;
  need = PCAP_FILE_HEADER_LEN;
  records = 0;
  errCode = '';
  errMessage = '';
  errOffset = 0;

  private headerDone = false;
  private snapLen = 0;
  /** Versions before 2.3 may have caplen and orig_len swapped (as libpcap handles it). */
  private oldVersion = false;
  private readonly frame: Frame = newFrame();
  /** 1000 for ns files (divide), 1 for µs files. */
  private readonly subDiv: number;
  private readonly subMax: number;

  constructor(
    private readonly events: CaptureReaderEvents,
    private readonly le: boolean,
    nano: boolean,
  ) {
    this.format = nano ? 'pcap-ns' : 'pcap';
    this.subDiv = nano ? 1000 : 1;
    this.subMax = nano ? 1e9 : 1e6;
    // Give frame.tsMicros a double representation before the first record: V8 then stores timestamps in place.
    // Left as a Smi field, the first fractional/large value changes the object's map under already-optimized code,
    // and every later store can allocate a heap number (measured: 16 bytes per record).
    this.frame.tsMicros = 0.5;
    this.frame.tsMicros = 0;
  }

  parse(buf: Buffer, start: number, end: number, absStart: number): number {
    let o = start;
    const le = this.le;
    if (!this.headerDone) {
      if (end - o < PCAP_FILE_HEADER_LEN) {
        this.need = PCAP_FILE_HEADER_LEN;
        return o;
      }
      const major = u16(buf, o + 4, le);
      const minor = u16(buf, o + 6, le);
      if (major !== 2) {
        this.errCode = 'CAP_ERR_UNSUPPORTED_VERSION';
        this.errMessage = `pcap file format version ${major}.${minor} is not supported (only 2.x)`;
        this.errOffset = absStart + (o - start) + 4;
        return -1;
      }
      this.oldVersion = minor < 3;
      this.snapLen = u32(buf, o + 16, le);
      const network = u32(buf, o + 20, le);
      this.frame.linkType = network & LINKTYPE_MASK;
      this.headerDone = true;
      o += PCAP_FILE_HEADER_LEN;
    }

    const frame = this.frame;
    const events = this.events;
    const snapLen = this.snapLen;
    const subDiv = this.subDiv;
    const subMax = this.subMax;
    frame.buf = buf;
    for (;;) {
      if (end - o < PCAP_RECORD_HEADER_LEN) {
        this.need = PCAP_RECORD_HEADER_LEN;
        return o;
      }
      const sec = u32(buf, o, le);
      const sub = u32(buf, o + 4, le);
      let capLen = u32(buf, o + 8, le);
      let wireLen = u32(buf, o + 12, le);
      if (capLen > MAX_CAPLEN) {
        this.errCode = 'CAP_ERR_BAD_RECORD';
        this.errOffset = absStart + (o - start);
        this.errMessage = `pcap record at offset ${this.errOffset} claims ${capLen} captured bytes (limit ${MAX_CAPLEN})`;
        return -1;
      }
      if (wireLen < capLen && this.oldVersion) {
        // Before 2.3 the two length fields were interchanged; the smaller one is what the file holds.
        const t = capLen;
        capLen = wireLen;
        wireLen = t;
      }
      if (end - o - PCAP_RECORD_HEADER_LEN < capLen) {
        this.need = PCAP_RECORD_HEADER_LEN + capLen;
        return o;
      }
      // Weirds only once the record is complete, so a record split across chunks is not counted twice.
      if (wireLen < capLen) {
        wireLen = capLen;
        if (events.onWeird !== undefined) events.onWeird('pcap_wirelen_under_caplen');
      }
      if (capLen > snapLen && snapLen !== 0 && events.onWeird !== undefined) events.onWeird('pcap_caplen_over_snaplen');
      if (sub >= subMax && events.onWeird !== undefined) events.onWeird('pcap_subsecond_overflow');
      frame.off = o + PCAP_RECORD_HEADER_LEN;
      frame.capLen = capLen;
      frame.wireLen = wireLen;
      frame.tsMicros = sec * 1e6 + (subDiv === 1 ? sub : Math.floor(sub / subDiv));
      this.records++;
      o += PCAP_RECORD_HEADER_LEN + capLen;
      events.onFrame(frame);
    }
  }
}
