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
 * A sender given as an IPv4-mapped IPv6 address (an IPv4 peer of a dual-stack [::] socket) is
 * reported as family 4 with its IPv4 address, so one peer has one label whatever the socket.
 *
 * When the fd is readable, the poll callback calls recvmmsg(MSG_DONTWAIT) into the slab and then
 * the JS callback ONCE per batch with the datagram count (a negative number is -errno of a failed
 * read). At most `maxBatches` (<= 256) batches per wakeup, then control returns to the event loop
 * (the poll is level-triggered, so what is left is read on the next loop iteration after timers and
 * other I/O ran). Nothing is allocated per datagram or per batch on the native side.
 *
 * Failing socket: a wakeup that ends with a failed read (or POLLERR) and no datagram after it counts
 * once toward an error streak. After MAX_ERROR_STREAK such wakeups in a row the receiver STALLS: it
 * stops polling (no busy loop), calls onBatch(-ENOTRECOVERABLE) once, and retries from a timer
 * (1 s, doubling up to 30 s; one more failing wakeup after a retry stalls again). The first datagram
 * read ends the stall (onBatch(count) as usual; stats().stalled turns false).
 *
 * Ownership: slab and meta are BORROWED by the callback: their contents are valid until the callback
 * returns; the next batch overwrites them. Their memory is allocated here (not by V8) and exposed as
 * external Buffers: detaching or transferring them from JS (structuredClone, postMessage) cannot
 * free it under recvmmsg. It is freed once the receiver was finalized AND both Buffers were
 * collected (an owner count: 1 for the receiver + 1 per Buffer).
 *
 * Lifetime: while open, the receiver holds a strong reference to its own JS object, so it cannot be
 * collected with a poll pending. close() is safe in any state (twice, from inside the callback, after
 * an error): it stops the poll, closes the fd, uv_close()s the handles and drops the references to
 * itself and to onBatch (so a callback that refers back to the receiver does not keep it alive).
 * The uv handles live in their own heap block with an async cleanup hook (Node-API 8): when the Node
 * environment (main thread or worker) ends with a receiver open, the hook closes it and Node waits
 * for the handles' close callbacks before it unloads the addon. The hook is removed only in the last
 * close callback, whichever way the receiver was closed. Errors become JS exceptions (constructor,
 * methods) or negative counts (reads); nothing aborts.
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
#define MAX_MAX_BATCHES 256
/* Error wakeups in a row (no datagram in between) after which the receiver stalls (see above). */
#define MAX_ERROR_STREAK 1000
#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 30000

/* Control buffer per slot: room for SO_RXQ_OVFL (uint32) with slack for anything unexpected. */
#define CTRL_BYTES 64

/* Distinguishes Receiver objects from objects other addons wrapped (napi_type_tag_object). */
static const napi_type_tag RECEIVER_TAG = {0x7564702d62617463ULL, 0x682d726563763031ULL};

/* Bytes of slab + meta memory currently allocated by this addon (all environments). */
static size_t g_native_bytes;

/* slab + meta memory, shared by the receiver and the two external Buffers that expose it. */
typedef struct shared_mem {
  uint32_t owners; /* 1 for the receiver + 1 per Buffer created; freed at 0 (JS thread only) */
  size_t bytes;
  uint8_t* slab;
  int32_t* meta;
} shared_mem;

struct receiver;

/* The uv handles, in their own heap block: it outlives the receiver when the receiver is finalized
   with a close callback still pending, and it is freed (and the cleanup hook removed) in the last
   close callback. */
typedef struct handles {
  uv_poll_t poll;
  uv_timer_t retry;
  int closing;
  int pending_closes;
  struct receiver* r; /* NULL once the receiver was finalized */
  napi_async_cleanup_hook_handle hook;
} handles;

typedef struct receiver {
  napi_env env;
  napi_ref self;     /* the JS object: strong while open, weak after close */
  int self_strong;
  napi_ref callback; /* onBatch; deleted by close() */
  napi_async_context async_ctx;
  shared_mem* mem;
  uint8_t* slab;
  int32_t* meta;
  uint32_t slots;
  uint32_t slot_size;
  uint32_t max_batches;
  int fd;
  int family;
  handles* h; /* NULL before init and once both handles' close callbacks ran */
  int polling;
  int in_callback;
  int stalled;
  uint32_t retry_ms;
  uint32_t last_drops;
  uint32_t error_streak;
  /* statistics */
  double wakeups, batches, datagrams, read_errors, stalls;
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

static void mem_release(shared_mem* m) {
  if (m == NULL || --m->owners > 0) return;
  __atomic_sub_fetch(&g_native_bytes, m->bytes, __ATOMIC_RELAXED);
  free(m->slab);
  free(m->meta);
  free(m);
}

/* Finalizer of the slab and meta Buffers: drops that Buffer's share. */
static void on_buffer_finalized(napi_env env, void* data, void* hint) {
  (void)env;
  (void)data;
  mem_release((shared_mem*)hint);
}

static shared_mem* mem_alloc(size_t slab_bytes, size_t meta_bytes) {
  shared_mem* m = (shared_mem*)calloc(1, sizeof *m);
  if (m == NULL) return NULL;
  void* slab = NULL;
  void* meta = NULL;
  if (posix_memalign(&slab, 4096, slab_bytes) != 0 || posix_memalign(&meta, 64, meta_bytes) != 0) {
    free(slab);
    free(m);
    return NULL;
  }
  memset(slab, 0, slab_bytes); /* never show JS stale heap contents */
  memset(meta, 0, meta_bytes);
  m->owners = 1;
  m->bytes = slab_bytes + meta_bytes;
  m->slab = (uint8_t*)slab;
  m->meta = (int32_t*)meta;
  __atomic_add_fetch(&g_native_bytes, m->bytes, __ATOMIC_RELAXED);
  return m;
}

static void free_receiver(receiver* r) {
  mem_release(r->mem);
  free(r->msgs);
  free(r->iovs);
  free(r->names);
  free(r->ctrl);
  free(r);
}

/* Close callback of both handles; the last one frees the block and removes the cleanup hook (Node
   waits for that before it tears the environment down and unloads the addon). */
static void on_handle_closed(uv_handle_t* uh) {
  handles* h = (handles*)uh->data;
  if (--h->pending_closes > 0) return;
  if (h->r != NULL) h->r->h = NULL;
  if (h->hook != NULL) napi_remove_async_cleanup_hook(h->hook);
  free(h);
}

/* Stops polling, closes the handles and the fd; no Node-API calls (safe from the cleanup hook). */
static void shut(receiver* r) {
  handles* h = r->h;
  if (h != NULL && !h->closing) {
    h->closing = 1;
    if (r->polling) uv_poll_stop(&h->poll);
    r->polling = 0;
    uv_timer_stop(&h->retry);
    h->pending_closes = 2;
    uv_close((uv_handle_t*)&h->poll, on_handle_closed);
    uv_close((uv_handle_t*)&h->retry, on_handle_closed);
  }
  if (r->fd >= 0) {
    close(r->fd);
    r->fd = -1;
  }
}

/* The environment is ending with the receiver open: close it; the last close callback removes the
   hook. When close() already ran, the close callbacks are pending and will remove it. */
static void on_env_cleanup(napi_async_cleanup_hook_handle hook, void* arg) {
  (void)hook;
  handles* h = (handles*)arg;
  if (h->r != NULL) shut(h->r);
}

/* close(): also drops the strong self reference and the callback reference (needs a JS context). */
static void close_receiver(receiver* r) {
  shut(r);
  if (r->self_strong && r->self != NULL) {
    uint32_t rc = 0;
    napi_reference_unref(r->env, r->self, &rc);
  }
  r->self_strong = 0;
  if (r->callback != NULL) {
    /* Safe from inside the callback: the function value is held by deliver()'s handle scope. */
    napi_delete_reference(r->env, r->callback);
    r->callback = NULL;
  }
}

static void finalize(napi_env env, void* data, void* hint) {
  (void)hint;
  receiver* r = (receiver*)data;
  shut(r);
  if (r->h != NULL) r->h->r = NULL; /* close callbacks still pending: they free only the block */
  r->h = NULL;
  if (r->callback) napi_delete_reference(env, r->callback);
  if (r->self) napi_delete_reference(env, r->self);
  if (r->async_ctx) napi_async_destroy(env, r->async_ctx);
  free_receiver(r);
}

/* ---------- receive path ---------- */

/* Calls onBatch(n) in its own handle scope. Returns 0; -1 when the receiver was closed (no callback)
   or the callback threw (the exception is re-raised as uncaught). */
static int deliver(receiver* r, int32_t n) {
  napi_env env = r->env;
  if (r->callback == NULL || r->async_ctx == NULL) return -1;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return -1;
  int rc = -1;
  napi_value cb, recv, arg, result;
  if (napi_get_reference_value(env, r->callback, &cb) != napi_ok || cb == NULL) goto out;
  if (napi_get_reference_value(env, r->self, &recv) != napi_ok || recv == NULL) napi_get_undefined(env, &recv);
  napi_create_int32(env, n, &arg);
  r->in_callback = 1;
  napi_status st = napi_make_callback(env, r->async_ctx, recv, cb, 1, &arg, &result);
  r->in_callback = 0;
  if (st == napi_ok) {
    rc = 0;
    goto out;
  }
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
out:
  napi_close_handle_scope(env, scope);
  return rc;
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
      s[3] = ntohs(v6->sin6_port);
      if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
        /* An IPv4 peer of a dual-stack socket: the same label (and IPv4 cache entry) as on AF_INET. */
        s[2] = 4;
        memcpy(&s[4], &v6->sin6_addr.s6_addr[12], 4);
        s[5] = s[6] = s[7] = 0;
      } else {
        s[2] = 6;
        memcpy(&s[4], &v6->sin6_addr, 16);
      }
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

static void on_poll(uv_poll_t* p, int status, int events);

/* Retry timer of a stalled receiver: poll again (the first failing wakeup stalls again, longer). */
static void on_retry(uv_timer_t* t) {
  handles* h = (handles*)t->data;
  receiver* r = h->r;
  if (r == NULL || h->closing || r->fd < 0 || r->polling) return;
  if (uv_poll_start(&h->poll, UV_READABLE, on_poll) == 0) {
    r->polling = 1;
  } else {
    r->retry_ms = r->retry_ms >= RETRY_MAX_MS / 2 ? RETRY_MAX_MS : r->retry_ms * 2;
    uv_timer_start(&h->retry, on_retry, r->retry_ms, 0);
  }
}

/* Too many failing wakeups in a row: stop polling and retry from the timer with back-off. Reports
   -ENOTRECOVERABLE once per stall (not again on a failed retry). */
static void stall(receiver* r) {
  handles* h = r->h;
  if (h == NULL || h->closing) return;
  if (r->polling) uv_poll_stop(&h->poll);
  r->polling = 0;
  r->retry_ms = r->retry_ms == 0 ? RETRY_MIN_MS : (r->retry_ms >= RETRY_MAX_MS / 2 ? RETRY_MAX_MS : r->retry_ms * 2);
  uv_timer_start(&h->retry, on_retry, r->retry_ms, 0); /* before deliver: the callback may close() */
  r->error_streak = MAX_ERROR_STREAK - 1;              /* after a retry, one more failing wakeup stalls again */
  if (!r->stalled) {
    r->stalled = 1;
    r->stalls++;
    deliver(r, -ENOTRECOVERABLE);
  }
}

static void on_poll(uv_poll_t* p, int status, int events) {
  (void)events;
  handles* h = (handles*)p->data;
  receiver* r = h->r;
  if (r == NULL || h->closing || r->fd < 0 || r->in_callback) return;
  r->wakeups++;
  /* 1 while the newest thing this wakeup saw is an error (no datagram after it). */
  int failing = 0;
  if (status < 0) {
    /* libuv stops the poll on POLLERR (and says UV_EBADF). The read below returns the socket's
       pending error (and clears it) and reports it; poll again. */
    r->polling = 0;
    failing = 1;
    if (uv_poll_start(&h->poll, UV_READABLE, on_poll) == 0) r->polling = 1;
    else {
      stall(r);
      return;
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
      failing = 1;
      deliver(r, -e);
      break;
    }
    if (n == 0) break;
    failing = 0;
    r->error_streak = 0;
    if (r->stalled) {
      r->stalled = 0;
      r->retry_ms = 0;
    }
    r->batches++;
    r->datagrams += n;
    fill_meta(r, n);
    if (deliver(r, n) != 0) break;
    if ((uint32_t)n < r->slots) break; /* queue drained: skip the EAGAIN round trip */
  }
  /* Counted once per wakeup, however many errors it saw. */
  if (failing && r->fd >= 0 && ++r->error_streak >= MAX_ERROR_STREAK) stall(r);
}

/* ---------- JS methods ---------- */

static receiver* unwrap(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv, napi_value* self) {
  napi_value thisv;
  receiver* r = NULL;
  bool tagged = false;
  if (napi_get_cb_info(env, info, argc, argv, &thisv, NULL) != napi_ok) return NULL;
  /* The type tag first: napi_unwrap alone would accept an object another addon wrapped. */
  if (napi_check_object_type_tag(env, thisv, &RECEIVER_TAG, &tagged) != napi_ok || !tagged || napi_unwrap(env, thisv, (void**)&r) != napi_ok ||
      r == NULL) {
    throw_type(env, "not a udp-batch Receiver");
    return NULL;
  }
  if (self) *self = thisv;
  return r;
}

/* Exposes [data, data + len) as a Buffer that holds one share of m; NULL with an exception pending. */
static napi_value share_buffer(napi_env env, shared_mem* m, void* data, size_t len) {
  napi_value buf = NULL;
  napi_status st = napi_create_external_buffer(env, len, data, on_buffer_finalized, m, &buf);
  if (st == napi_ok) {
    m->owners++;
    return buf;
  }
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return NULL;
  if (st == napi_no_external_buffers_allowed) {
    napi_throw_error(env, "ERR_UDP_BATCH_EXTERNAL_BUFFERS",
                     "udp-batch: this Node.js build does not allow external buffers (V8 sandbox), which the receive slab needs; "
                     "use the node:dgram receiver");
  } else {
    char msg[128];
    snprintf(msg, sizeof msg, "udp-batch: napi_create_external_buffer failed (napi_status %d)", (int)st);
    napi_throw_error(env, "ERR_UDP_BATCH_EXTERNAL_BUFFERS", msg);
  }
  return NULL;
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
  /* strlen != hlen: an embedded NUL ("127.0.0.1\0junk") would be bound as its prefix. */
  if (ht != napi_string || napi_get_value_string_utf8(env, hostv, host, sizeof host, &hlen) != napi_ok || hlen == 0 || hlen >= sizeof host - 1 ||
      strlen(host) != hlen)
    return throw_type(env, "option host: expected a numeric IPv4 or IPv6 address");
  uint32_t port, slots, slot_size, max_batches, rcvbuf;
  bool force;
  if (opt_uint(env, argv[0], "port", UINT32_MAX, 0, 65535, &port) || opt_uint(env, argv[0], "slots", DEFAULT_SLOTS, MIN_SLOTS, MAX_SLOTS, &slots) ||
      opt_uint(env, argv[0], "slotSize", DEFAULT_SLOT_SIZE, MIN_SLOT_SIZE, MAX_SLOT_SIZE, &slot_size) ||
      opt_uint(env, argv[0], "maxBatches", DEFAULT_MAX_BATCHES, 1, MAX_MAX_BATCHES, &max_batches) ||
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
  size_t slab_bytes = (size_t)slots * slot_size;
  size_t meta_bytes = (size_t)(HDR_WORDS + SLOT_WORDS * slots) * 4;
  r->mem = mem_alloc(slab_bytes, meta_bytes); /* the receiver's share */
  if (!r->msgs || !r->iovs || !r->names || !r->ctrl || !r->mem) {
    freeaddrinfo(ai);
    free_receiver(r);
    return throw_errno(env, "calloc", ENOMEM, NULL);
  }
  r->slab = r->mem->slab;
  r->meta = r->mem->meta;

  /* Shared buffers: native memory (JS cannot free it by detaching), one owner share each. */
  napi_value slab = share_buffer(env, r->mem, r->slab, slab_bytes);
  napi_value meta = slab == NULL ? NULL : share_buffer(env, r->mem, r->meta, meta_bytes);
  if (meta == NULL) {
    freeaddrinfo(ai);
    free_receiver(r); /* drops the receiver's share; a Buffer already made keeps its own */
    return NULL;      /* exception pending */
  }
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

  /* Handles (poll + retry timer) in their own block. */
  uv_loop_t* loop = NULL;
  handles* h = (handles*)calloc(1, sizeof *h);
  int ue = 0;
  if (h == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok || loop == NULL || (ue = uv_poll_init(loop, &h->poll, fd)) != 0) {
    free(h); /* a failed uv_poll_init registers nothing */
    close(fd);
    r->fd = -1;
    free_receiver(r);
    return throw_errno(env, "uv_poll_init", ue ? -ue : ENOMEM, NULL);
  }
  uv_timer_init(loop, &h->retry);
  h->poll.data = h;
  h->retry.data = h;
  h->r = r;
  r->h = h;

  napi_value resname;
  napi_create_string_utf8(env, "udp-batch", NAPI_AUTO_LENGTH, &resname);
  if (napi_type_tag_object(env, thisv, &RECEIVER_TAG) != napi_ok || napi_wrap(env, thisv, r, finalize, NULL, NULL) != napi_ok) {
    h->r = NULL; /* the close callbacks free only the block (no hook yet) */
    shut(r);
    r->h = NULL;
    free_receiver(r);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, NULL, "udp-batch: cannot wrap the Receiver object");
    return NULL;
  }
  /* From here on, finalize() owns r. */
  napi_create_reference(env, thisv, 1, &r->self);
  r->self_strong = 1;
  napi_create_reference(env, argv[1], 1, &r->callback);
  napi_async_init(env, thisv, resname, &r->async_ctx);
  if (napi_add_async_cleanup_hook(env, on_env_cleanup, h, &h->hook) != napi_ok) {
    h->hook = NULL;
    close_receiver(r);
    napi_throw_error(env, NULL, "udp-batch: napi_add_async_cleanup_hook failed");
    return NULL;
  }

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

  if ((ue = uv_poll_start(&h->poll, UV_READABLE, on_poll)) != 0) {
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

/* stats() → { wakeups, batches, datagrams, readErrors, lastErrno, open, polling, stalled, stalls } */
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
  set_bool(env, o, "stalled", r->stalled != 0);
  set_num(env, o, "stalls", r->stalls);
  return o;
}

static napi_value Receiver_ref(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  receiver* r = unwrap(env, info, &argc, NULL, NULL);
  if (r != NULL && r->h != NULL && !r->h->closing) {
    uv_ref((uv_handle_t*)&r->h->poll);
    uv_ref((uv_handle_t*)&r->h->retry);
  }
  return NULL;
}

static napi_value Receiver_unref(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  receiver* r = unwrap(env, info, &argc, NULL, NULL);
  if (r != NULL && r->h != NULL && !r->h->closing) {
    uv_unref((uv_handle_t*)&r->h->poll);
    uv_unref((uv_handle_t*)&r->h->retry);
  }
  return NULL;
}

/* nativeBytes() → bytes of slab + meta memory allocated by this addon and not yet freed (all
   receivers, all environments of the process): freed once a receiver is finalized and its two
   Buffers collected. */
static napi_value NativeBytes(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_double(env, (double)__atomic_load_n(&g_native_bytes, __ATOMIC_RELAXED), &v);
  return v;
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
  napi_value fn;
  if (napi_create_function(env, "nativeBytes", NAPI_AUTO_LENGTH, NativeBytes, NULL, &fn) == napi_ok) napi_set_named_property(env, exports, "nativeBytes", fn);
  napi_value v;
  napi_create_int32(env, HDR_WORDS, &v);
  napi_set_named_property(env, exports, "HEADER_WORDS", v);
  napi_create_int32(env, SLOT_WORDS, &v);
  napi_set_named_property(env, exports, "SLOT_WORDS", v);
  napi_create_int32(env, FLAG_TRUNC, &v);
  napi_set_named_property(env, exports, "FLAG_TRUNCATED", v);
  napi_create_int32(env, 1, &v);
  napi_set_named_property(env, exports, "ABI", v);
  napi_create_int32(env, ENOTRECOVERABLE, &v);
  napi_set_named_property(env, exports, "ENOTRECOVERABLE", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
