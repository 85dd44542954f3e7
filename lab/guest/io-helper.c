/*
 * hanfs-guest-io: the one compiled piece of the kernel-client guest (lab/guest/). busybox has no flock applet, no
 * fcntl locks and no way to keep a file open across commands while fsyncing it, so this helper does exactly that:
 *
 *   hanfs-guest-io keep TAG FILE EVERY_MS none|flock|fcntl
 *
 * opens FILE (created, emptied), takes the lock if one is asked for, and then every EVERY_MS writes one 64-byte
 * record through that same descriptor, fsyncs it, and reads it back through a second descriptor opened O_DIRECT (so
 * the read goes to the server, not the page cache). Each operation is one line on stdout, in the workload's format:
 *
 *   op=TAG-write file=FILE ok=1 startMs=... durMs=... [err=...]
 *
 * Writes go through the locked descriptor on purpose: a Linux NFS client that loses a lock it could not reclaim
 * fails I/O under that lock with EIO, so a holder whose writes keep succeeding still holds its lock.
 * On SIGTERM it reads every acknowledged record back, reports op=TAG-verify, and exits (the close drops the lock).
 * Built at run time by lab/guest/initramfs.ts with `gcc -static`; nothing prebuilt is committed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define RECORD 64

static volatile sig_atomic_t stopping;

static void on_term(int sig) {
  (void)sig;
  stopping = 1;
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void emit(const char *tag, const char *what, const char *file, int ok, long long start, int err) {
  printf("op=%s-%s file=%s ok=%d startMs=%lld durMs=%lld", tag, what, file, ok, start, now_ms() - start);
  if (!ok) printf(" err=%s", strerrorname_np(err) ? strerrorname_np(err) : "unknown"); /* EIO: one word */
  printf("\n");
  fflush(stdout);
}

static void record(char *buf, const char *tag, long n) {
  memset(buf, '.', RECORD);
  int len = snprintf(buf, RECORD, "%s record %08ld", tag, n);
  buf[len] = '.';
  buf[RECORD - 1] = '\n';
}

static int take_lock(int fd, const char *how) {
  if (strcmp(how, "flock") == 0) return flock(fd, LOCK_EX);
  if (strcmp(how, "fcntl") == 0) {
    struct flock whole = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    return fcntl(fd, F_SETLKW, &whole);
  }
  return 0;
}

/* Sleeps until `until` (ms), or until SIGTERM. */
static void sleep_until(long long until) {
  long long left = until - now_ms();
  if (left <= 0) return;
  struct timespec t = { .tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000 };
  nanosleep(&t, NULL);
}

int main(int argc, char **argv) {
  if (argc != 6 || strcmp(argv[1], "keep") != 0) {
    fprintf(stderr, "usage: hanfs-guest-io keep TAG FILE EVERY_MS none|flock|fcntl\n");
    return 2;
  }
  const char *tag = argv[2], *file = argv[3], *how = argv[5];
  long every = atol(argv[4]);
  struct sigaction sa = { .sa_handler = on_term };  /* no SA_RESTART: SIGTERM ends a sleep at once */
  sigaction(SIGTERM, &sa, NULL);

  long long t0 = now_ms();
  int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
  int rfd = fd < 0 ? -1 : open(file, O_RDONLY | O_DIRECT);
  if (fd < 0 || rfd < 0) {
    emit(tag, "open", file, 0, t0, errno);
    return 1;
  }
  emit(tag, "open", file, 1, t0, 0);
  if (strcmp(how, "none") != 0) {
    t0 = now_ms();
    int rc = take_lock(fd, how);
    emit(tag, "lock", file, rc == 0, t0, errno);
    if (rc != 0) return 1;
  }

  char *buf, *back;
  if (posix_memalign((void **)&buf, 4096, 4096) || posix_memalign((void **)&back, 4096, 4096)) return 1;
  long written = 0; /* records 0..written-1 were each acknowledged by fsync */
  long lost = 0;    /* records whose write or fsync failed: each is retried at the same place */
  for (long long next = now_ms(); !stopping; next += every) {
    record(buf, tag, written);
    t0 = now_ms();
    int ok = pwrite(fd, buf, RECORD, written * RECORD) == RECORD && fsync(fd) == 0;
    emit(tag, "write", file, ok, t0, errno);
    if (!ok) {
      lost++;
      sleep_until(next + every);
      continue;
    }
    t0 = now_ms();
    ssize_t got = pread(rfd, back, 4096, written * RECORD);
    int same = got >= RECORD && memcmp(back, buf, RECORD) == 0;
    emit(tag, "read", file, same, t0, got < 0 ? errno : EIO);
    written++;
    sleep_until(next + every);
  }

  long bad = 0;
  t0 = now_ms();
  for (long n = 0; n < written; n++) {
    record(buf, tag, n);
    if (pread(rfd, back, 4096, n * RECORD) < RECORD || memcmp(back, buf, RECORD) != 0) bad++;
  }
  printf("op=%s-verify file=%s ok=%d startMs=%lld durMs=%lld records=%ld bad=%ld writeFailures=%ld\n", tag, file,
         bad == 0, t0, now_ms() - t0, written, bad, lost);
  fflush(stdout);
  return 0;
}
