/** LD_PRELOAD shim: the first FAIL_RECVMMSG calls of recvmmsg fail with ENOMEM (the datagram stays queued). */
export const FAILING_RECVMMSG = `#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
static long left = -1;
int recvmmsg(int fd, struct mmsghdr* v, unsigned int n, int flags, struct timespec* t) {
  static int (*real)(int, struct mmsghdr*, unsigned int, int, struct timespec*);
  if (real == NULL) real = (int (*)(int, struct mmsghdr*, unsigned int, int, struct timespec*))dlsym(RTLD_NEXT, "recvmmsg");
  if (left < 0) { const char* s = getenv("FAIL_RECVMMSG"); left = s ? atol(s) : 0; }
  if (left > 0) { left--; errno = ENOMEM; return -1; }
  return real(fd, v, n, flags, t);
}`;
