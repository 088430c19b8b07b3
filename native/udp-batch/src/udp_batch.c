/*
 * udp-batch: a batched UDP receiver for Node.js (Linux), Node-API only.
 *
 * One Receiver = one UDP socket (AF_INET or AF_INET6, non-blocking, close-on-exec) bound to a
 * numeric address, a uv_poll_t on its fd in the caller's event loop, and one receive slab:
 *
 *   slab  Buffer of `slots` x `slotSize` bytes; datagram i of a batch is at i * slotSize.
 *   meta  Buffer of Int32 words shared with JS (both created once, at construction):
 *           header  [0] count        datagrams in this batch
 *                   [1] drops        kernel drop counter of the socket (SO_RXQ_OVFL: sk_drops as of
 *                                    the newest datagram that carried it; uint32, cumulative, wraps)
 *                   [2] tsSec        receive time of the batch (CLOCK_REALTIME), seconds (uint32)
 *                   [3] tsUsec       ... microseconds
 *                   [4..7]           reserved (0)
 *           slot i at word 8 + 8*i:
 *                   [0] length       bytes of datagram i in the slab
 *                   [1] flags        bit 0: MSG_TRUNC (the datagram was longer than slotSize)
 *                   [2] family       4 or 6 (source address family; 0 if the kernel gave none)
 *                   [3] port         source port (host order)
 *                   [4..7] address   source address bytes, network order (IPv4 uses word 4 only)
 *
 * When the fd is readable, the poll callback calls recvmmsg(MSG_DONTWAIT) into the slab and then
 * the JS callback ONCE per batch with the datagram count (a negative number is -errno of a failed
 * read). At most `maxBatches` batches per wakeup, then control returns to the event loop (the poll
 * is level-triggered, so what is left is read on the next loop iteration after timers and other
 * I/O ran). Nothing is allocated per datagram or per batch on the native side.
 *
 * Ownership: slab and meta are BORROWED by the callback: their contents are valid until the callback
 * returns; the next batch overwrites them. The Buffers themselves stay valid for the receiver's life.
 *
 * Lifetime: while open, the receiver holds a strong reference to its own JS object, so it cannot be
 * collected with a poll pending. close() is safe in any state (twice, from inside the callback, after
 * an error): it stops the poll, closes the fd and uv_close()s the handle; the native state is freed
 * once the handle's close callback ran and the JS object was finalized. An environment cleanup hook
 * closes a receiver left open at exit. Errors become JS exceptions (constructor, methods) or negative
 * counts (reads); nothing aborts.
 */
#define _GNU_SOURCE
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif
#ifndef SO_RCVBUFFORCE
#define SO_RCVBUFFORCE 33
#endif

#define HDR_WORDS 8
#define SLOT_WORDS 8
#define FLAG_TRUNC 1

#define MIN_SLOTS 1
#define MAX_SLOTS 1024
#define MIN_SLOT_SIZE 64
#define MAX_SLOT_SIZE 65536
#define MAX_SLAB_BYTES (32u * 1024 * 1024)
#define DEFAULT_SLOTS 64
#define DEFAULT_SLOT_SIZE 65536
#define DEFAULT_MAX_BATCHES 16
/* Error wakeups in a row (no datagram in between) after which polling stops for good. */
#define MAX_ERROR_STREAK 1000

/* Control buffer per slot: room for SO_RXQ_OVFL (uint32) with slack for anything unexpected. */
#define CTRL_BYTES 64

typedef struct receiver {
  napi_env env;
  napi_ref self;     /* the JS object: strong while open, weak after close */
  napi_ref callback; /* onBatch */
  napi_ref slab_ref;
  napi_ref meta_ref;
  napi_async_context async_ctx;
  uint8_t* slab;
  int32_t* meta;
  uint32_t slots;
  uint32_t slot_size;
  uint32_t max_batches;
  int fd;
  int family;
  uv_poll_t* poll; /* heap: freed in its close callback */
  int polling;
  int in_callback;
  int cleanup_hook;
  uint32_t last_drops;
  uint32_t error_streak;
  /* statistics */
  double wakeups, batches, datagrams, read_errors;
  int last_errno;
  struct mmsghdr* msgs;
  struct iovec* iovs;
  struct sockaddr_storage* names;
  uint8_t* ctrl;
} receiver;

/* ---------- small helpers ---------- */

static napi_value throw_errno(napi_env env, const char* syscall, int err, const char* detail) {
  char msg[256];
  const char* name = uv_err_name(-err);
  snprintf(msg, sizeof msg, "%s %s%s%s", syscall, name, detail ? " " : "", detail ? detail : "");
  napi_value m, code, e, no, sc;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, m, &e);
  napi_create_int32(env, -err, &no);
  napi_set_named_property(env, e, "errno", no);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, e, "syscall", sc);
  napi_throw(env, e);
  return NULL;
}

static napi_value throw_type(napi_env env, const char* msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG", msg);
  return NULL;
}

/* Reads an optional integer property; returns 0 and sets *out, or throws and returns -1. */
static int opt_uint(napi_env env, napi_value obj, const char* key, uint32_t def, uint32_t min, uint32_t max, uint32_t* out) {
  bool has = false;
  napi_has_named_property(env, obj, key, &has);
  *out = def;
  if (!has) return 0;
  napi_value v;
  napi_valuetype t;
  napi_get_named_property(env, obj, key, &v);
  napi_typeof(env, v, &t);
  if (t == napi_undefined) return 0;
  double d;
  if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || !(d >= min && d <= max) || d != (double)(int64_t)d) {
    char msg[160];
    snprintf(msg, sizeof msg, "option %s: expected an integer %u-%u", key, min, max);
    throw_type(env, msg);
    return -1;
  }
  *out = (uint32_t)d;
  return 0;
}

static int opt_bool(napi_env env, napi_value obj, const char* key, bool def, bool* out) {
  bool has = false;
  napi_has_named_property(env, obj, key, &has);
  *out = def;
  if (!has) return 0;
  napi_value v;
  napi_valuetype t;
  napi_get_named_property(env, obj, key, &v);
  napi_typeof(env, v, &t);
  if (t == napi_undefined) return 0;
  if (t != napi_boolean) {
    char msg[128];
    snprintf(msg, sizeof msg, "option %s: expected a boolean", key);
    throw_type(env, msg);
    return -1;
  }
  napi_get_value_bool(env, v, out);
  return 0;
}

static void set_num(napi_env env, napi_value obj, const char* key, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, key, n);
}

static void set_bool(napi_env env, napi_value obj, const char* key, bool v) {
  napi_value b;
  napi_get_boolean(env, v, &b);
  napi_set_named_property(env, obj, key, b);
}

/* ---------- lifetime ---------- */

static void free_receiver(receiver* r) {
  free(r->msgs);
  free(r->iovs);
  free(r->names);
  free(r->ctrl);
  free(r);
}

static void on_handle_closed(uv_handle_t* h) {
  receiver* r = (receiver*)h->data;
  free(h);
  if (r == NULL) return; /* finalized already: it detached itself */
  r->poll = NULL;
}

/* Stops polling and closes the fd; no Node-API calls (safe from the env cleanup hook). */
static void shut(receiver* r) {
  if (r->poll != NULL) {
    if (r->polling) uv_poll_stop(r->poll);
    r->polling = 0;
    if (!uv_is_closing((uv_handle_t*)r->poll)) uv_close((uv_handle_t*)r->poll, on_handle_closed);
  }
  if (r->fd >= 0) {
    close(r->fd);
    r->fd = -1;
  }
}

static void env_cleanup(void* arg) {
  receiver* r = (receiver*)arg;
  r->cleanup_hook = 0;
  shut(r);
}

/* close(): also drops the strong self reference and the cleanup hook (needs a JS context). */
static void close_receiver(receiver* r) {
  int was_open = r->fd >= 0 || r->poll != NULL;
  shut(r);
  if (was_open && r->self != NULL) {
    uint32_t rc = 0;
    napi_reference_unref(r->env, r->self, &rc);
  }
  if (r->cleanup_hook) {
    napi_remove_env_cleanup_hook(r->env, env_cleanup, r);
    r->cleanup_hook = 0;
  }
}

static void finalize(napi_env env, void* data, void* hint) {
  (void)hint;
  receiver* r = (receiver*)data;
  if (r->cleanup_hook) {
    napi_remove_env_cleanup_hook(env, env_cleanup, r);
    r->cleanup_hook = 0;
  }
  shut(r);
  if (r->poll != NULL) r->poll->data = NULL; /* close callback still pending: it frees only the handle */
  if (r->callback) napi_delete_reference(env, r->callback);
  if (r->slab_ref) napi_delete_reference(env, r->slab_ref);
  if (r->meta_ref) napi_delete_reference(env, r->meta_ref);
  if (r->self) napi_delete_reference(env, r->self);
  if (r->async_ctx) napi_async_destroy(env, r->async_ctx);
  free_receiver(r);
}

/* ---------- receive path ---------- */

/* Calls onBatch(n). Returns 0, or -1 when the callback threw (the exception is re-raised as uncaught). */
static int deliver(receiver* r, int32_t n) {
  napi_env env = r->env;
  napi_value cb, recv, arg, result;
  if (r->callback == NULL || r->async_ctx == NULL) return -1;
  if (napi_get_reference_value(env, r->callback, &cb) != napi_ok || cb == NULL) return -1;
  if (napi_get_reference_value(env, r->self, &recv) != napi_ok || recv == NULL) napi_get_undefined(env, &recv);
  napi_create_int32(env, n, &arg);
  r->in_callback = 1;
  napi_status st = napi_make_callback(env, r->async_ctx, recv, cb, 1, &arg, &result);
  r->in_callback = 0;
  if (st == napi_ok) return 0;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  return -1;
}

static void fill_meta(receiver* r, int n) {
  int32_t* m = r->meta;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  m[0] = n;
  m[2] = (int32_t)(uint32_t)ts.tv_sec;
  m[3] = (int32_t)(ts.tv_nsec / 1000);
  for (int i = 0; i < n; i++) {
    struct mmsghdr* h = &r->msgs[i];
    int32_t* s = m + HDR_WORDS + SLOT_WORDS * i;
    s[0] = (int32_t)h->msg_len;
    s[1] = (h->msg_hdr.msg_flags & MSG_TRUNC) ? FLAG_TRUNC : 0;
    const struct sockaddr_storage* a = &r->names[i];
    if (h->msg_hdr.msg_namelen >= sizeof(struct sockaddr_in) && a->ss_family == AF_INET) {
      const struct sockaddr_in* v4 = (const struct sockaddr_in*)a;
      s[2] = 4;
      s[3] = ntohs(v4->sin_port);
      memcpy(&s[4], &v4->sin_addr, 4);
      s[5] = s[6] = s[7] = 0;
    } else if (h->msg_hdr.msg_namelen >= sizeof(struct sockaddr_in6) && a->ss_family == AF_INET6) {
      const struct sockaddr_in6* v6 = (const struct sockaddr_in6*)a;
      s[2] = 6;
      s[3] = ntohs(v6->sin6_port);
      memcpy(&s[4], &v6->sin6_addr, 16);
    } else {
      s[2] = s[3] = s[4] = s[5] = s[6] = s[7] = 0;
    }
    if (h->msg_hdr.msg_controllen > 0) {
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&h->msg_hdr); c != NULL; c = CMSG_NXTHDR(&h->msg_hdr, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL && c->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
          uint32_t d;
          memcpy(&d, CMSG_DATA(c), sizeof d);
          /* Cumulative: keep the newest (datagrams are in queue order; compare with wrap). */
          if ((int32_t)(d - r->last_drops) > 0) r->last_drops = d;
        }
      }
    }
  }
  m[1] = (int32_t)r->last_drops;
}

static void on_poll(uv_poll_t* h, int status, int events) {
  (void)events;
  receiver* r = (receiver*)h->data;
  if (r == NULL || r->fd < 0 || r->in_callback) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(r->env, &scope) != napi_ok) return;
  r->wakeups++;
  if (status < 0) {
    /* libuv stops the poll on POLLERR (and says UV_EBADF). The read below returns the socket's
       pending error (and clears it) and reports it; poll again unless errors keep coming without
       any datagram in between. */
    r->polling = 0;
    if (++r->error_streak < MAX_ERROR_STREAK && uv_poll_start(r->poll, UV_READABLE, on_poll) == 0) {
      r->polling = 1;
    } else {
      r->read_errors++;
      r->last_errno = ENOTRECOVERABLE;
      deliver(r, -ENOTRECOVERABLE);
      goto out;
    }
  }
  for (uint32_t b = 0; b < r->max_batches && r->fd >= 0; b++) {
    for (uint32_t i = 0; i < r->slots; i++) {
      r->msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
      r->msgs[i].msg_hdr.msg_controllen = CTRL_BYTES;
      r->msgs[i].msg_hdr.msg_flags = 0;
    }
    int n = recvmmsg(r->fd, r->msgs, r->slots, MSG_DONTWAIT, NULL);
    if (n < 0) {
      int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN || e == EWOULDBLOCK) break;
      r->read_errors++;
      r->last_errno = e;
      if (++r->error_streak >= MAX_ERROR_STREAK) {
        /* A socket that only ever fails: stop polling rather than spin. */
        if (r->polling) uv_poll_stop(r->poll);
        r->polling = 0;
        deliver(r, -ENOTRECOVERABLE);
        break;
      }
      deliver(r, -e);
      break;
    }
    if (n == 0) break;
    r->error_streak = 0;
    r->batches++;
    r->datagrams += n;
    fill_meta(r, n);
    if (deliver(r, n) != 0) break;
    if ((uint32_t)n < r->slots) break; /* queue drained: skip the EAGAIN round trip */
  }
out:
  napi_close_handle_scope(r->env, scope);
}

/* ---------- JS methods ---------- */

static receiver* unwrap(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv, napi_value* self) {
  napi_value thisv;
  receiver* r = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &thisv, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, thisv, (void**)&r) != napi_ok || r == NULL) {
    throw_type(env, "not a udp-batch Receiver");
    return NULL;
  }
  if (self) *self = thisv;
  return r;
}

/* new Receiver({ host, port, slots?, slotSize?, maxBatches?, rcvbuf?, forceRcvbuf? }, onBatch) */
static napi_value Receiver_new(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], thisv, newtarget;
  napi_get_cb_info(env, info, &argc, argv, &thisv, NULL);
  napi_get_new_target(env, info, &newtarget);
  if (newtarget == NULL) return throw_type(env, "Receiver must be called with new");
  napi_valuetype t0 = napi_undefined, t1 = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t0);
  if (argc >= 2) napi_typeof(env, argv[1], &t1);
  if (t0 != napi_object || t1 != napi_function) return throw_type(env, "expected (options object, onBatch function)");

  napi_value hostv;
  napi_valuetype ht;
  char host[128];
  size_t hlen = 0;
  napi_get_named_property(env, argv[0], "host", &hostv);
  napi_typeof(env, hostv, &ht);
  if (ht != napi_string || napi_get_value_string_utf8(env, hostv, host, sizeof host, &hlen) != napi_ok || hlen == 0 || hlen >= sizeof host - 1)
    return throw_type(env, "option host: expected a numeric IPv4 or IPv6 address");
  uint32_t port, slots, slot_size, max_batches, rcvbuf;
  bool force;
  if (opt_uint(env, argv[0], "port", UINT32_MAX, 0, 65535, &port) || opt_uint(env, argv[0], "slots", DEFAULT_SLOTS, MIN_SLOTS, MAX_SLOTS, &slots) ||
      opt_uint(env, argv[0], "slotSize", DEFAULT_SLOT_SIZE, MIN_SLOT_SIZE, MAX_SLOT_SIZE, &slot_size) ||
      opt_uint(env, argv[0], "maxBatches", DEFAULT_MAX_BATCHES, 1, 1 << 20, &max_batches) ||
      opt_uint(env, argv[0], "rcvbuf", 0, 0, INT32_MAX / 2, &rcvbuf) || opt_bool(env, argv[0], "forceRcvbuf", true, &force))
    return NULL;
  if (port == UINT32_MAX) return throw_type(env, "option port: required (0-65535)");
  if ((uint64_t)slots * slot_size > MAX_SLAB_BYTES) return throw_type(env, "slots x slotSize exceeds 32 MiB");

  /* Address (numeric only: no DNS at bind time). */
  char portstr[12];
  snprintf(portstr, sizeof portstr, "%u", port);
  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  int gai = getaddrinfo(host, portstr, &hints, &ai);
  if (gai != 0 || ai == NULL) {
    if (ai) freeaddrinfo(ai);
    return throw_type(env, "option host: expected a numeric IPv4 or IPv6 address");
  }

  receiver* r = (receiver*)calloc(1, sizeof *r);
  if (r == NULL) {
    freeaddrinfo(ai);
    return throw_errno(env, "calloc", ENOMEM, NULL);
  }
  r->env = env;
  r->fd = -1;
  r->slots = slots;
  r->slot_size = slot_size;
  r->max_batches = max_batches;
  r->family = ai->ai_family;
  r->msgs = (struct mmsghdr*)calloc(slots, sizeof *r->msgs);
  r->iovs = (struct iovec*)calloc(slots, sizeof *r->iovs);
  r->names = (struct sockaddr_storage*)calloc(slots, sizeof *r->names);
  r->ctrl = (uint8_t*)calloc(slots, CTRL_BYTES);
  if (!r->msgs || !r->iovs || !r->names || !r->ctrl) {
    freeaddrinfo(ai);
    free_receiver(r);
    return throw_errno(env, "calloc", ENOMEM, NULL);
  }

  /* Shared buffers, owned by V8 (stable backing stores), referenced by the receiver. */
  napi_value slab, meta;
  void* slab_data = NULL;
  void* meta_data = NULL;
  size_t meta_bytes = (size_t)(HDR_WORDS + SLOT_WORDS * slots) * 4;
  if (napi_create_buffer(env, (size_t)slots * slot_size, &slab_data, &slab) != napi_ok ||
      napi_create_buffer(env, meta_bytes, &meta_data, &meta) != napi_ok) {
    freeaddrinfo(ai);
    free_receiver(r);
    return NULL; /* exception pending (allocation failure) */
  }
  r->slab = (uint8_t*)slab_data;
  r->meta = (int32_t*)meta_data;
  memset(r->meta, 0, meta_bytes);
  for (uint32_t i = 0; i < slots; i++) {
    r->iovs[i].iov_base = r->slab + (size_t)i * slot_size;
    r->iovs[i].iov_len = slot_size;
    r->msgs[i].msg_hdr.msg_iov = &r->iovs[i];
    r->msgs[i].msg_hdr.msg_iovlen = 1;
    r->msgs[i].msg_hdr.msg_name = &r->names[i];
    r->msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    r->msgs[i].msg_hdr.msg_control = r->ctrl + (size_t)i * CTRL_BYTES;
    r->msgs[i].msg_hdr.msg_controllen = CTRL_BYTES;
  }

  /* Socket. */
  int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int e = errno;
    freeaddrinfo(ai);
    free_receiver(r);
    return throw_errno(env, "socket", e, NULL);
  }
  int rcvbuf_errno = 0;
  bool forced = false;
  if (rcvbuf > 0) {
    int v = (int)rcvbuf;
    if (force && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) == 0) forced = true;
    else if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) != 0) rcvbuf_errno = errno;
  }
  int reported = 0;
  socklen_t rl = sizeof reported;
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &reported, &rl) != 0) reported = 0;
  int one = 1;
  bool drops_available = setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) == 0;
  if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    int e = errno;
    char where[160];
    snprintf(where, sizeof where, "%s%s%s:%u", ai->ai_family == AF_INET6 ? "[" : "", host, ai->ai_family == AF_INET6 ? "]" : "", port);
    close(fd);
    freeaddrinfo(ai);
    free_receiver(r);
    return throw_errno(env, "bind", e, where);
  }
  freeaddrinfo(ai);
  r->fd = fd;

  /* Poll. */
  uv_loop_t* loop = NULL;
  r->poll = (uv_poll_t*)calloc(1, sizeof(uv_poll_t));
  int ue = 0;
  if (r->poll == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok || loop == NULL || (ue = uv_poll_init(loop, r->poll, fd)) != 0) {
    free(r->poll);
    r->poll = NULL;
    close(fd);
    free_receiver(r);
    return throw_errno(env, "uv_poll_init", ue ? -ue : ENOMEM, NULL);
  }
  r->poll->data = r;

  napi_value resname;
  napi_create_string_utf8(env, "udp-batch", NAPI_AUTO_LENGTH, &resname);
  if (napi_wrap(env, thisv, r, finalize, NULL, NULL) != napi_ok) {
    r->poll->data = NULL; /* the handle's close callback frees only the handle */
    shut(r);
    r->poll = NULL;
    free_receiver(r);
    return NULL;
  }
  /* From here on, finalize() owns r. */
  napi_create_reference(env, thisv, 1, &r->self);
  napi_create_reference(env, argv[1], 1, &r->callback);
  napi_create_reference(env, slab, 1, &r->slab_ref);
  napi_create_reference(env, meta, 1, &r->meta_ref);
  napi_async_init(env, thisv, resname, &r->async_ctx);
  if (napi_add_env_cleanup_hook(env, env_cleanup, r) == napi_ok) r->cleanup_hook = 1;

  napi_set_named_property(env, thisv, "slab", slab);
  napi_set_named_property(env, thisv, "meta", meta);
  set_num(env, thisv, "slots", slots);
  set_num(env, thisv, "slotSize", slot_size);
  set_num(env, thisv, "maxBatches", max_batches);
  set_num(env, thisv, "rcvbufRequested", rcvbuf);
  set_num(env, thisv, "rcvbufReported", reported);
  set_bool(env, thisv, "rcvbufForced", forced);
  set_num(env, thisv, "rcvbufErrno", rcvbuf_errno);
  set_bool(env, thisv, "dropsAvailable", drops_available);

  if ((ue = uv_poll_start(r->poll, UV_READABLE, on_poll)) != 0) {
    close_receiver(r);
    return throw_errno(env, "uv_poll_start", -ue, NULL);
  }
  r->polling = 1;
  return thisv;
}

static napi_value Receiver_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  receiver* r = unwrap(env, info, &argc, NULL, NULL);
  if (r != NULL) close_receiver(r);
  return NULL;
}

/* address() → { address, family: 'IPv4'|'IPv6', port } (getsockname; port 0 resolved). */
static napi_value Receiver_address(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  receiver* r = unwrap(env, info, &argc, NULL, NULL);
  if (r == NULL) return NULL;
  if (r->fd < 0) return throw_errno(env, "getsockname", EBADF, "(receiver closed)");
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(r->fd, (struct sockaddr*)&ss, &sl) != 0) return throw_errno(env, "getsockname", errno, NULL);
  char text[INET6_ADDRSTRLEN];
  unsigned port;
  if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6* a = (struct sockaddr_in6*)&ss;
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  } else {
    struct sockaddr_in* a = (struct sockaddr_in*)&ss;
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  }
  napi_value o, s, f;
  napi_create_object(env, &o);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, o, "address", s);
  napi_create_string_utf8(env, ss.ss_family == AF_INET6 ? "IPv6" : "IPv4", NAPI_AUTO_LENGTH, &f);
  napi_set_named_property(env, o, "family", f);
  set_num(env, o, "port", port);
  return o;
}

/* sourceAddress(slot) → text of slot's source address in the current batch (inet_ntop), or '' when none. */
static napi_value Receiver_sourceAddress(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  receiver* r = unwrap(env, info, &argc, argv, NULL);
  if (r == NULL) return NULL;
  uint32_t i = 0;
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &i) != napi_ok || i >= r->slots) return throw_type(env, "slot: expected an integer below slots");
  const int32_t* s = r->meta + HDR_WORDS + SLOT_WORDS * i;
  char text[INET6_ADDRSTRLEN] = "";
  if (s[2] == 4) inet_ntop(AF_INET, &s[4], text, sizeof text);
  else if (s[2] == 6) inet_ntop(AF_INET6, &s[4], text, sizeof text);
  napi_value out;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &out);
  return out;
}

/* stats() → { wakeups, batches, datagrams, readErrors, lastErrno, open } */
static napi_value Receiver_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  receiver* r = unwrap(env, info, &argc, NULL, NULL);
  if (r == NULL) return NULL;
  napi_value o;
  napi_create_object(env, &o);
  set_num(env, o, "wakeups", r->wakeups);
  set_num(env, o, "batches", r->batches);
  set_num(env, o, "datagrams", r->datagrams);
  set_num(env, o, "readErrors", r->read_errors);
  set_num(env, o, "lastErrno", r->last_errno);
  set_bool(env, o, "open", r->fd >= 0);
  set_bool(env, o, "polling", r->polling != 0);
  return o;
}

static napi_value Receiver_ref(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  receiver* r = unwrap(env, info, &argc, NULL, NULL);
  if (r != NULL && r->poll != NULL && !uv_is_closing((uv_handle_t*)r->poll)) uv_ref((uv_handle_t*)r->poll);
  return NULL;
}

static napi_value Receiver_unref(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  receiver* r = unwrap(env, info, &argc, NULL, NULL);
  if (r != NULL && r->poll != NULL && !uv_is_closing((uv_handle_t*)r->poll)) uv_unref((uv_handle_t*)r->poll);
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"close", NULL, Receiver_close, NULL, NULL, NULL, napi_default, NULL},
      {"address", NULL, Receiver_address, NULL, NULL, NULL, napi_default, NULL},
      {"sourceAddress", NULL, Receiver_sourceAddress, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, Receiver_stats, NULL, NULL, NULL, napi_default, NULL},
      {"ref", NULL, Receiver_ref, NULL, NULL, NULL, napi_default, NULL},
      {"unref", NULL, Receiver_unref, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  if (napi_define_class(env, "Receiver", NAPI_AUTO_LENGTH, Receiver_new, NULL, sizeof methods / sizeof methods[0], methods, &cls) != napi_ok) return NULL;
  napi_set_named_property(env, exports, "Receiver", cls);
  napi_value v;
  napi_create_int32(env, HDR_WORDS, &v);
  napi_set_named_property(env, exports, "HEADER_WORDS", v);
  napi_create_int32(env, SLOT_WORDS, &v);
  napi_set_named_property(env, exports, "SLOT_WORDS", v);
  napi_create_int32(env, FLAG_TRUNC, &v);
  napi_set_named_property(env, exports, "FLAG_TRUNCATED", v);
  napi_create_int32(env, 1, &v);
  napi_set_named_property(env, exports, "ABI", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
