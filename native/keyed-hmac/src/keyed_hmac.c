/*
 * keyed-hmac: HMAC-SHA256 with a fixed key, one Node-API call per message. Node-API only.
 *
 *   const { keyedHmac, ABI } = require('keyed-hmac');   // ABI: 1 (bumped when this interface changes)
 *   const mac = keyedHmac(key);                // key: Uint8Array (Buffer), any length
 *   mac(input, length, out, offset);           // out[offset, offset + 32) = HMAC-SHA256(key, input[0, length))
 *
 * keyedHmac() hashes the key block XOR ipad and XOR opad once (RFC 2104; a key longer than the
 * 64-byte block is hashed first) and keeps the two SHA-256 states in a native block owned by the
 * returned function (freed, after being wiped, by its finalizer). A call copies the inner state,
 * hashes the message, copies the outer state and hashes the inner digest: no allocation, no key
 * schedule, no JS objects. SHA-256 is OpenSSL's (SHA256_Init/Update/Final, exported by Node itself),
 * which uses the CPU's SHA extensions where present.
 *
 * Buffers are BORROWED for the duration of the call only: nothing is retained, so a caller may
 * reuse, transfer or drop them afterwards. Bad arguments (not a Uint8Array, a length or offset out
 * of range) throw TypeError/RangeError; nothing aborts. Thread-safe in the sense Node needs: the
 * state block is only read after construction, so one function may be called from any one thread
 * that can reach it (JS functions never cross threads).
 */
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <openssl/sha.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  SHA256_CTX inner; /* state after (key XOR ipad) */
  SHA256_CTX outer; /* state after (key XOR opad) */
} keyed_state;

/* memset that the compiler may not drop (the block held key material). */
static void wipe(void *p, size_t n) {
  volatile unsigned char *q = (volatile unsigned char *)p;
  while (n--) *q++ = 0;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

/* The bytes of a Uint8Array (a Buffer is one); 0 when `v` is something else. */
static int bytes_of(napi_env env, napi_value v, unsigned char **data, size_t *len) {
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  void *p = NULL;
  if (napi_get_typedarray_info(env, v, &type, len, &p, NULL, NULL) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  *data = (unsigned char *)p;
  return 1;
}

/* A non-negative integer argument below 2^31; 0 when it is not one. */
static int index_of(napi_env env, napi_value v, size_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return 0;
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return 0;
  if (!(d >= 0 && d <= 2147483647.0) || d != (double)(int64_t)d) return 0;
  *out = (size_t)d;
  return 1;
}

static napi_value mac(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok || data == NULL) {
    return throw_type(env, "mac: cannot read the call's arguments");
  }
  if (argc < 4) return throw_type(env, "mac(input, length, out, offset): four arguments");
  const keyed_state *st = (const keyed_state *)data;
  unsigned char *in, *out;
  size_t in_len, out_len, length, offset;
  if (!bytes_of(env, argv[0], &in, &in_len)) return throw_type(env, "input must be a Uint8Array");
  if (!index_of(env, argv[1], &length) || length > in_len) return throw_range(env, "length out of range");
  if (!bytes_of(env, argv[2], &out, &out_len)) return throw_type(env, "out must be a Uint8Array");
  if (!index_of(env, argv[3], &offset) || offset > out_len || out_len - offset < 32) {
    return throw_range(env, "offset out of range (32 bytes are written)");
  }
  SHA256_CTX c = st->inner;
  unsigned char inner_digest[32];
  SHA256_Update(&c, in, length);
  SHA256_Final(inner_digest, &c);
  c = st->outer;
  SHA256_Update(&c, inner_digest, 32);
  SHA256_Final(out + offset, &c);
  wipe(&c, sizeof c);
  wipe(inner_digest, sizeof inner_digest);
  return NULL;
}

static void free_state(napi_env env, void *data, void *hint) {
  wipe(data, sizeof(keyed_state));
  free(data);
}

static napi_value keyed_hmac(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return throw_type(env, "keyedHmac: cannot read the call's arguments");
  unsigned char *key;
  size_t key_len;
  if (argc < 1 || !bytes_of(env, argv[0], &key, &key_len)) return throw_type(env, "key must be a Uint8Array");

  unsigned char block[64];
  memset(block, 0, sizeof block);
  if (key_len > 64) SHA256(key, key_len, block);
  else if (key_len > 0) memcpy(block, key, key_len);

  keyed_state *st = (keyed_state *)malloc(sizeof *st);
  if (st == NULL) {
    wipe(block, sizeof block);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  unsigned char pad[64];
  for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
  SHA256_Init(&st->inner);
  SHA256_Update(&st->inner, pad, 64);
  for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
  SHA256_Init(&st->outer);
  SHA256_Update(&st->outer, pad, 64);
  wipe(pad, sizeof pad);
  wipe(block, sizeof block);

  napi_value fn;
  if (napi_create_function(env, "mac", NAPI_AUTO_LENGTH, mac, st, &fn) != napi_ok ||
      napi_add_finalizer(env, fn, st, free_state, NULL, NULL) != napi_ok) {
    free_state(env, st, NULL);
    napi_throw_error(env, NULL, "could not create the mac function");
    return NULL;
  }
  return fn;
}

#define KEYED_HMAC_ABI 1

NAPI_MODULE_INIT() {
  napi_value fn, abi;
  if (napi_create_function(env, "keyedHmac", NAPI_AUTO_LENGTH, keyed_hmac, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "keyedHmac", fn) != napi_ok) return NULL;
  if (napi_create_int32(env, KEYED_HMAC_ABI, &abi) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "ABI", abi) != napi_ok) return NULL;
  return exports;
}
