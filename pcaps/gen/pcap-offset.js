'use strict';
// Prints the byte offset at which record N (1-based) of a classic pcap file
// starts, and its captured length: "OFFSET CAPLEN".  record.sh uses it to cut
// a capture in the middle of a record with head -c.
// Usage: node pcap-offset.js FILE N

const fs = require('node:fs');

const [file, nArg] = process.argv.slice(2);
const n = Number(nArg);
if (!file || !(n >= 1)) {
  process.stderr.write('usage: node pcap-offset.js FILE N\n');
  process.exit(64);
}
const buf = fs.readFileSync(file);
if (buf.length < 24) { process.stderr.write('pcap-offset: shorter than a pcap header\n'); process.exit(1); }
const magic = buf.readUInt32LE(0);
let le;
if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
else { process.stderr.write('pcap-offset: not a classic pcap file\n'); process.exit(1); }

let off = 24;
for (let i = 1; ; i++) {
  if (off + 16 > buf.length) { process.stderr.write(`pcap-offset: only ${i - 1} records\n`); process.exit(1); }
  const capLen = le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8);
  if (i === n) { process.stdout.write(`${off} ${capLen}\n`); break; }
  off += 16 + capLen;
}
