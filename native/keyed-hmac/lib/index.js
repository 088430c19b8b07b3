'use strict';
// Loads the compiled binding (node-gyp puts it in build/Release; a debug build in build/Debug).
// Throws (MODULE_NOT_FOUND or a dlopen error) when it was not built; callers treat that as
// "native HMAC unavailable" and compute HMAC-SHA256 in JavaScript.
let binding;
try {
  binding = require('../build/Release/keyed_hmac.node');
} catch (err) {
  try {
    binding = require('../build/Debug/keyed_hmac.node');
  } catch {
    throw err;
  }
}
module.exports = binding;
