/**
 * pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html; IETF draft-ietf-opsawg-pcapng).
 *
 *  Every block, in the byte order of its section:
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                          Block Type                           |  0
 *  |                      Block Total Length                       |  4
 *  /                          Block Body                           /  8
 *  |                      Block Total Length                       |  len-4
 *  +---------------------------------------------------------------+
 *  SHB  0x0A0D0D0A  byte-order magic 1A2B3C4D (@8), major (@12), minor (@14), section length (@16), options (@24)
 *  IDB  0x00000001  link type u16 (@8), reserved (@10), snaplen (@12), options (@16): if_tsresol (9), if_tsoffset (14)
 *  EPB  0x00000006  interface id (@8), ts high (@12), ts low (@16), caplen (@20), orig len (@24), data (@28)
 *  SPB  0x00000003  orig len (@8), data (@12); interface 0, no timestamp, caplen from the block length and snaplen
 *  OPB  0x00000002  (obsolete) interface id u16 (@8), drops u16 (@10), ts high, ts low, caplen, orig len, data (@28)
 *  NRB 4, ISB 5, journal 9, DSB 10, custom 0x0BAD / 0x40000BAD are skipped; any other type is skipped and counted.
 *
 * Each SHB starts a new section: byte order and the interface table are reset. Block framing errors (length not a
 * multiple of 4, < 12, over the limit, trailer mismatch) are fatal CAP_ERR_BAD_RECORD; inconsistencies inside a
 * well-framed block are weirds and the block is skipped.
 *
 * Timestamps: each interface's if_tsresol/if_tsoffset are turned once, when its IDB is read, into a conversion
 * from the (high, low) 32-bit halves to microseconds with plain float arithmetic that is exact for results up to
 * 2^53 µs (resolutions 10^-0..10^-12 and 2^-0..2^-32). Other resolutions use BigInt per record (allocates; no real
 * writer uses them). SPB carries no timestamp: its frames get the timestamp of the previous record.
 *
 * Records are handed out in place: frame.buf is the caller's buffer (BORROWED until onFrame returns). One Frame object
 * is reused; no allocation per record.
 */
import type { CaptureFormat, CaptureReaderEvents, FormatParser } from './capture-reader';
import { newFrame, type Frame } from './frame';

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_OPB = 0x00000002;
const BT_SPB = 0x00000003;
const BT_NRB = 0x00000004;
const BT_ISB = 0x00000005;
const BT_EPB = 0x00000006;
const BT_JOURNAL = 0x00000009;
const BT_DSB = 0x0000000a;
const BT_CUSTOM = 0x00000bad;
const BT_CUSTOM_NOCOPY = 0x40000bad;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const BLOCK_HEADER_LEN = 12; // type, length, and (SHB) byte-order magic; also the smallest legal block
const SHB_MIN_LEN = 28;
const IDB_MIN_LEN = 20;
const PACKET_MIN_LEN = 32; // EPB and OPB
const SPB_MIN_LEN = 16;
const PACKET_DATA_OFF = 28; // EPB and OPB
const SPB_DATA_OFF = 12;
/** Mirrors MAX_RECORD_BYTES in capture-reader.ts, plus room for the largest packet block's fixed fields. */
const MAX_BLOCK_LEN = 256 * 1024 * 1024 + 64;
const MAX_INTERFACES = 65536;

const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

const TS_MUL = 0; // units of 10^-r, r <= 6: µs = ts * 10^(6-r)
const TS_DIV = 1; // units of 10^-r, 6 < r <= 12: µs = floor(ts / 10^(r-6)), split in 32-bit halves
const TS_POW2 = 2; // units of 2^-r, r <= 32
const TS_BIG = 3; // anything else, BigInt per record
const TWO_32 = 4294967296;

/** One interface of the current section; built once per IDB. All fields always set (one hidden class). */
export interface Iface {
  valid: boolean;
  linkType: number;
  snapLen: number;
  kind: number;
  mul: number;
  divD: number;
  /** floor(2^32 / divD) and 2^32 mod divD. */
  divA: number;
  divB: number;
  /** 10^6 * 2^(32-r) and 2^r. */
  pow2Hi: number;
  pow2Den: number;
  bigUnits: bigint;
  /** if_tsoffset in µs. */
  offUs: number;
}

export function newIface(valid: boolean, linkType: number, snapLen: number, resol: number, offsetSec: number): Iface {
  const ifc: Iface = {
    valid, linkType, snapLen, kind: TS_MUL, mul: 1, divD: 1, divA: 0, divB: 0, pow2Hi: 0, pow2Den: 1,
    bigUnits: 1000000n, offUs: offsetSec * 1e6,
  };
  const r = resol & 0x7f;
  if ((resol & 0x80) === 0) {
    if (r <= 6) {
      ifc.kind = TS_MUL;
      ifc.mul = 10 ** (6 - r);
    } else if (r <= 12) {
      ifc.kind = TS_DIV;
      ifc.divD = 10 ** (r - 6);
      ifc.divA = Math.floor(TWO_32 / ifc.divD);
      ifc.divB = TWO_32 % ifc.divD;
    } else {
      ifc.kind = TS_BIG;
      ifc.bigUnits = 10n ** BigInt(r);
    }
  } else if (r <= 32) {
    ifc.kind = TS_POW2;
    ifc.pow2Hi = 1e6 * 2 ** (32 - r);
    ifc.pow2Den = 2 ** r;
  } else {
    ifc.kind = TS_BIG;
    ifc.bigUnits = 1n << BigInt(r);
  }
  return ifc;
}

/**
 * Sets out.tsMicros to microseconds since the epoch from the 64-bit timestamp at buf[off] (high 32 bits, then low
 * 32 bits, each in the section's byte order). It reads the halves itself and writes into a number field instead of
 * returning a number: uint32 values >= 2^31 and fractional results crossing a non-inlined call would be boxed as
 * heap numbers, one allocation per record.
 */
export function writeTsMicros(ifc: Iface, buf: Buffer, off: number, le: boolean, out: { tsMicros: number }): void {
  const hi = rd32(buf, off, le);
  const lo = rd32(buf, off + 4, le);
  switch (ifc.kind) {
    case TS_MUL:
      out.tsMicros = (hi * TWO_32 + lo) * ifc.mul + ifc.offUs;
      return;
    case TS_DIV: {
      // ts = hi*(A*d + B) + lo  =>  floor(ts/d) = hi*A + floor((hi*B + lo)/d); hi*B + lo < 2^53 for d <= 10^6.
      const d = ifc.divD;
      const x = hi * ifc.divB + lo;
      let q = Math.floor(x / d);
      if (q * d > x) q--; // the float quotient may round up across an integer
      out.tsMicros = hi * ifc.divA + q + ifc.offUs;
      return;
    }
    case TS_POW2:
      out.tsMicros = hi * ifc.pow2Hi + Math.floor((lo * 1e6) / ifc.pow2Den) + ifc.offUs;
      return;
    default:
      out.tsMicros = Number(((BigInt(hi) << 32n) | BigInt(lo)) * 1000000n / ifc.bigUnits) + ifc.offUs;
  }
}

/** Timestamp conversion from two 32-bit halves (tests, tools; allocates). */
export function ifaceTsMicros(ifc: Iface, hi: number, lo: number): number {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(hi, 0);
  b.writeUInt32LE(lo, 4);
  const out = { tsMicros: 0 };
  writeTsMicros(ifc, b, 0, true, out);
  return out.tsMicros;
}

/* Byte-wise readers: tiny enough to be inlined everywhere. Buffer#readUInt32LE is a larger JS builtin that
 * TurboFan does not always inline, and a uint32 >= 2^31 returned from a call is boxed (one heap number per call). */
function rd32(b: Buffer, o: number, le: boolean): number {
  return le
    ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0
    : ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function rd16(b: Buffer, o: number, le: boolean): number {
  return le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
}

export class PcapngParser implements FormatParser {
  readonly format: CaptureFormat = 'pcapng';
  need = BLOCK_HEADER_LEN;
  records = 0;
  errCode = '';
  errMessage = '';
  errOffset = 0;

  private le = true;
  private sections = 0;
  private ifaces: Iface[] = [];
  private readonly frame: Frame = newFrame();

  constructor(private readonly events: CaptureReaderEvents) {
    // Give frame.tsMicros a double representation before the first record: V8 then stores timestamps in place.
    // Left as a Smi field, the first fractional/large value changes the object's map under already-optimized code,
    // and every later store can allocate a heap number (measured: 16 bytes per record).
    this.frame.tsMicros = 0.5;
    this.frame.tsMicros = 0;
  }

  parse(buf: Buffer, start: number, end: number, absStart: number): number {
    let o = start;
    for (;;) {
      if (end - o < BLOCK_HEADER_LEN) {
        this.need = BLOCK_HEADER_LEN;
        return o;
      }
      const abs = absStart + (o - start);
      let le = this.le;
      const type = rd32(buf, o, le);
      if (type === BT_SHB) {
        const bom = buf.readUInt32LE(o + 8);
        if (bom === BYTE_ORDER_MAGIC) le = true;
        else if (bom === 0x4d3c2b1a) le = false;
        else {
          return this.fail(
            abs === 0 ? 'CAP_ERR_NOT_A_CAPTURE' : 'CAP_ERR_BAD_RECORD',
            abs === 0
              ? `not a capture file: starts like a pcapng section header (0a0d0d0a) but the byte-order magic is ` +
                  `${buf.toString('hex', o + 8, o + 12)}, not 1a2b3c4d in either byte order`
              : `pcapng section header at offset ${abs} has a bad byte-order magic ${buf.toString('hex', o + 8, o + 12)}`,
            abs,
          );
        }
      } else if (this.sections === 0) {
        // Unreachable through detection (the input starts with 0a0d0d0a); kept so the parser is safe on its own.
        return this.fail('CAP_ERR_NOT_A_CAPTURE', 'pcapng input does not start with a section header block', abs);
      }
      const len = rd32(buf, o + 4, le);
      if (len < BLOCK_HEADER_LEN || (len & 3) !== 0 || len > MAX_BLOCK_LEN) {
        return this.fail(
          'CAP_ERR_BAD_RECORD',
          `pcapng block (type 0x${type.toString(16)}) at offset ${abs} has an impossible total length ${len}` +
            ' (must be a multiple of 4, at least 12, at most 256 MiB)',
          abs,
        );
      }
      if (end - o < len) {
        this.need = len;
        return o;
      }
      const trailer = rd32(buf, o + len - 4, le);
      if (trailer !== len) {
        return this.fail(
          'CAP_ERR_BAD_RECORD',
          `pcapng block (type 0x${type.toString(16)}) at offset ${abs}: trailing length ${trailer} != leading length ${len}`,
          abs,
        );
      }
      switch (type) {
        case BT_EPB:
          this.packetBlock(buf, o, len, le, rd32(buf, o + 8, le), 'pcapng_epb');
          break;
        case BT_SHB:
          if (len < SHB_MIN_LEN) {
            return this.fail('CAP_ERR_BAD_RECORD', `pcapng section header at offset ${abs} is too short (${len} bytes)`, abs);
          }
          if (rd16(buf, o + 12, le) !== 1) {
            return this.fail(
              'CAP_ERR_UNSUPPORTED_VERSION',
              `pcapng section at offset ${abs} has version ${rd16(buf, o + 12, le)}.${rd16(buf, o + 14, le)} (only 1.x is supported)`,
              abs,
            );
          }
          this.le = le;
          this.sections++;
          this.ifaces = [];
          break;
        case BT_IDB:
          this.interfaceBlock(buf, o, len, le);
          break;
        case BT_SPB:
          this.simplePacketBlock(buf, o, len, le);
          break;
        case BT_OPB:
          this.packetBlock(buf, o, len, le, rd16(buf, o + 8, le), 'pcapng_opb');
          break;
        case BT_NRB:
        case BT_ISB:
        case BT_JOURNAL:
        case BT_DSB:
        case BT_CUSTOM:
        case BT_CUSTOM_NOCOPY:
          break;
        default:
          this.weird('pcapng_unknown_block');
      }
      o += len;
    }
  }

  private fail(code: string, message: string, offset: number): number {
    this.errCode = code;
    this.errMessage = message;
    this.errOffset = offset;
    return -1;
  }

  private weird(name: string): void {
    if (this.events.onWeird !== undefined) this.events.onWeird(name);
  }

  private interfaceBlock(buf: Buffer, o: number, len: number, le: boolean): void {
    if (this.ifaces.length >= MAX_INTERFACES) {
      this.weird('pcapng_too_many_interfaces');
      return;
    }
    if (len < IDB_MIN_LEN) {
      // Keep interface numbering aligned; packets that name this interface are counted and skipped.
      this.weird('pcapng_idb_too_short');
      this.ifaces.push(newIface(false, 0, 0, 6, 0));
      return;
    }
    const linkType = rd16(buf, o + 8, le);
    const snapLen = rd32(buf, o + 12, le);
    let resol = 6;
    let offsetSec = 0;
    const optEnd = o + len - 4;
    let p = o + 16;
    while (optEnd - p >= 4) {
      const code = rd16(buf, p, le);
      const olen = rd16(buf, p + 2, le);
      if (code === OPT_ENDOFOPT) break;
      if (optEnd - p - 4 < olen) {
        this.weird('pcapng_bad_option');
        break;
      }
      if (code === OPT_IF_TSRESOL && olen >= 1) resol = buf[p + 4];
      else if (code === OPT_IF_TSOFFSET && olen >= 8) {
        offsetSec = Number(le ? buf.readBigInt64LE(p + 4) : buf.readBigInt64BE(p + 4));
      }
      p += 4 + ((olen + 3) & ~3);
    }
    this.ifaces.push(newIface(true, linkType, snapLen, resol, offsetSec));
  }

  /** EPB and OPB: same layout from the timestamp on. `prefix` names the weirds. */
  private packetBlock(buf: Buffer, o: number, len: number, le: boolean, ifId: number, prefix: string): void {
    if (len < PACKET_MIN_LEN) {
      this.weird(prefix + '_too_short');
      return;
    }
    const ifc = ifId < this.ifaces.length ? this.ifaces[ifId] : undefined;
    if (ifc === undefined || !ifc.valid) {
      this.weird(prefix + '_unknown_interface');
      return;
    }
    const capLen = rd32(buf, o + 20, le);
    let wireLen = rd32(buf, o + 24, le);
    if (capLen > len - PACKET_DATA_OFF - 4) {
      this.weird(prefix + '_caplen_over_block');
      return;
    }
    if (wireLen < capLen) {
      this.weird('pcapng_wirelen_under_caplen');
      wireLen = capLen;
    }
    if (capLen > ifc.snapLen && ifc.snapLen !== 0) this.weird('pcapng_caplen_over_snaplen');
    writeTsMicros(ifc, buf, o + 12, le, this.frame);
    this.emit(buf, o + PACKET_DATA_OFF, capLen, wireLen, ifc.linkType);
  }

  private simplePacketBlock(buf: Buffer, o: number, len: number, le: boolean): void {
    if (len < SPB_MIN_LEN) {
      this.weird('pcapng_spb_too_short');
      return;
    }
    const ifc = this.ifaces.length > 0 ? this.ifaces[0] : undefined;
    if (ifc === undefined || !ifc.valid) {
      this.weird('pcapng_spb_unknown_interface');
      return;
    }
    const wireLen = rd32(buf, o + 8, le);
    // The SPB holds min(original length, snaplen) bytes (padded to 4); a shorter block is read as far as it goes.
    let capLen = ifc.snapLen !== 0 && wireLen > ifc.snapLen ? ifc.snapLen : wireLen;
    const room = len - SPB_DATA_OFF - 4;
    if (capLen > room) {
      this.weird('pcapng_spb_data_short');
      capLen = room;
    }
    // frame.tsMicros still holds the previous record's timestamp (0 before the first one).
    this.emit(buf, o + SPB_DATA_OFF, capLen, wireLen, ifc.linkType);
  }

  /** frame.tsMicros is set by the caller. */
  private emit(buf: Buffer, off: number, capLen: number, wireLen: number, linkType: number): void {
    const f = this.frame;
    f.buf = buf;
    f.off = off;
    f.capLen = capLen;
    f.wireLen = wireLen;
    f.linkType = linkType;
    this.records++;
    this.events.onFrame(f);
  }
}
