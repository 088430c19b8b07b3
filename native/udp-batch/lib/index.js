'use strict';
// Loads the compiled binding (node-gyp puts it in build/Release; a debug build in build/Debug).
// Throws (MODULE_NOT_FOUND or a dlopen error) when it was not built; callers treat that as
// "native receiver unavailable" and fall back to node:dgram.
let binding;
try {
  binding = require('../build/Release/udp_batch.node');
} catch (err) {
  try {
    binding = require('../build/Debug/udp_batch.node');
  } catch {
    throw err;
  }
}
module.exports = binding;
