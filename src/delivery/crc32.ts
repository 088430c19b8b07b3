import * as zlib from 'node:zlib';

/** CRC-32 (IEEE) of `buf`: zlib's native one where Node has it (20.15+), else a table. */
let table: Uint32Array | undefined;

function jsCrc32(buf: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < buf.length; i++) crc = table[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const native = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;

export function crc32(buf: Uint8Array): number {
  return native ? native(buf) >>> 0 : jsCrc32(buf);
}

export { jsCrc32 as crc32Portable };
