/* probe: resource abuse (memory, processes, threads, CPU, disk, output, signals). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

/* alloc MB: malloc and touch 1 MiB at a time, so the memory is really charged. */
static int cmd_alloc(int argc, char** argv) {
  (void)argc;
  long mb = atol(argv[0]);
  for (long i = 0; i < mb; ++i) {
    char* p = malloc(1 << 20);
    if (!p) {
      printf("malloc failed at %ld MiB\n", i);
      return 3;
    }
    memset(p, 1, 1 << 20);
  }
  printf("allocated %ld MiB\n", mb);
  return 0;
}

/* mmap MB: one anonymous mapping, populated up front (no malloc arena in the way). */
static int cmd_mmap(int argc, char** argv) {
  (void)argc;
  size_t bytes = (size_t)atol(argv[0]) << 20;
  char* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return probe_errno("mmap");
  for (size_t off = 0; off < bytes; off += 4096) p[off] = 1;
  printf("mapped %zu MiB\n", bytes >> 20);
  return 0;
}

/* reread MB PATH PASSES: hold MB of anonymous memory, then read PATH start to end PASSES times
 * (0: for ever). With MB near the memory limit the file's pages are evicted as fast as they are
 * read: the run thrashes at its limit, and the kernel has nothing to OOM-kill for. */
static int cmd_reread(int argc, char** argv) {
  if (argc < 3) return 2;
  size_t bytes = (size_t)atol(argv[0]) << 20;
  long passes = atol(argv[2]);
  char* p = bytes ? mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : NULL;
  if (p == MAP_FAILED) return probe_errno("mmap");
  for (size_t off = 0; off < bytes; off += 4096) p[off] = 1;
  static char buf[1 << 16];
  for (long pass = 0; passes == 0 || pass < passes; ++pass) {
    int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0) return probe_errno("open");
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
    }
    close(fd);
    if (n < 0) return probe_errno("read");
  }
  printf("reread %ld times\n", passes);
  return 0;
}

static int cmd_forkbomb(int argc, char** argv) {
  (void)argc;
  (void)argv;
  int failures = 0;
  for (int i = 0; i < 100000 && failures < 1000; ++i) {
    pid_t p = fork();
    if (p == 0) {
      probe_sleep_ms(60000);
      _exit(0);
    }
    if (p < 0) ++failures;
  }
  printf("fork failures: %d\n", failures);
  return 0;
}

static void* idle_thread(void* arg) {
  (void)arg;
  probe_sleep_ms(60000);
  return NULL;
}

/* threads N: start up to N threads (small stacks), report how many the kernel allowed. */
static int cmd_threads(int argc, char** argv) {
  (void)argc;
  long want = atol(argv[0]);
  long made = 0, failures = 0;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 << 10);
  for (long i = 0; i < want && failures < 100; ++i) {
    pthread_t t;
    if (pthread_create(&t, &attr, idle_thread, NULL) == 0) {
      ++made;
    } else {
      ++failures;
    }
  }
  printf("threads created: %ld failures: %ld\n", made, failures);
  return 0;
}

/* flood BYTES [err|both]: write BYTES to stdout, stderr, or both interleaved. */
static int cmd_flood(int argc, char** argv) {
  long total = atol(argv[0]);
  const char* which = argc > 1 ? argv[1] : "out";
  char buf[65536];
  memset(buf, 'x', sizeof buf);
  int both = !strcmp(which, "both");
  int fd = !strcmp(which, "err") ? 2 : 1;
  long left[3] = {0, both || fd == 1 ? total : 0, both || fd == 2 ? total : 0};
  while (left[1] > 0 || left[2] > 0) {
    for (int f = 1; f <= 2; ++f) {
      if (left[f] <= 0) continue;
      long n = left[f] < (long)sizeof buf ? left[f] : (long)sizeof buf;
      ssize_t w = write(f, buf, (size_t)n);
      if (w <= 0) return 4;
      left[f] -= w;
    }
  }
  return 0;
}

/* Unbounded on purpose (the stack rlimit must stop it); `limit` only hides that from gcc. */
static int recurse(long depth, long limit) {
  volatile char frame[4096];
  frame[0] = (char)depth;
  if (depth == limit) return frame[0];
  return recurse(depth + 1, limit) + frame[0];
}

static int cmd_stack(int argc, char** argv) {
  (void)argc;
  (void)argv;
  return recurse(0, -1);
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* spin MS [THREADS]: burn CPU for MS of wall time on THREADS threads; report CPU seconds. */
static void* spin_thread(void* arg) {
  struct timespec end = *(struct timespec*)arg, now;
  do {
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
  return NULL;
}

static int cmd_spin(int argc, char** argv) {
  long ms = atol(argv[0]);
  int n = argc > 1 ? atoi(argv[1]) : 1;
  struct timespec end;
  clock_gettime(CLOCK_MONOTONIC, &end);
  end.tv_sec += ms / 1000;
  end.tv_nsec += (ms % 1000) * 1000000L;
  if (end.tv_nsec >= 1000000000L) {
    end.tv_sec += 1;
    end.tv_nsec -= 1000000000L;
  }
  pthread_t t[64];
  if (n > 64) n = 64;
  for (int i = 1; i < n; ++i) pthread_create(&t[i], NULL, spin_thread, &end);
  spin_thread(&end);
  for (int i = 1; i < n; ++i) pthread_join(t[i], NULL);
  printf("cpu seconds: %.3f\n", cpu_seconds());
  return 0;
}

static int cmd_stopself(int argc, char** argv) {
  (void)argc;
  (void)argv;
  printf("stopping\n");
  fflush(stdout);
  raise(SIGSTOP);
  printf("continued\n");
  return 0;
}

/* stopchild TOKEN: leave a child stopped by SIGSTOP behind, marked with TOKEN, and exit. */
static int cmd_stopchild(int argc, char** argv) {
  (void)argc;
  pid_t p = fork();
  if (p == 0) {
    raise(SIGSTOP);
    execl("/probe", "/probe", "sleep", "600000", argv[0], (char*)NULL);
    _exit(0);
  }
  int status;
  waitpid(p, &status, WUNTRACED);
  printf("child stopped: %d\n", WIFSTOPPED(status));
  return 0;
}

/* fill PATH MB: write up to MB MiB into PATH; report how far it got. */
static int cmd_fill(int argc, char** argv) {
  (void)argc;
  long mb = atol(argv[1]);
  int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return probe_errno("open");
  static char buf[1 << 20];
  memset(buf, 'f', sizeof buf);
  long written = 0;
  for (long i = 0; i < mb; ++i) {
    ssize_t w = write(fd, buf, sizeof buf);
    if (w < 0) {
      printf("wrote %ld bytes: %s\n", written, strerror(errno));
      return 1;
    }
    written += w;
    if (w < (ssize_t)sizeof buf) {
      printf("wrote %ld bytes: short write\n", written);
      return 1;
    }
  }
  printf("wrote %ld bytes\n", written);
  return 0;
}

/* inodes DIR N: create up to N empty files in DIR. */
static int cmd_inodes(int argc, char** argv) {
  (void)argc;
  long n = atol(argv[1]);
  char path[4096];
  for (long i = 0; i < n; ++i) {
    snprintf(path, sizeof path, "%s/f%ld", argv[0], i);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
      printf("created %ld files: %s\n", i, strerror(errno));
      return 1;
    }
    close(fd);
  }
  printf("created %ld files\n", n);
  return 0;
}

/* sparse PATH BYTES: make a file of BYTES apparent size (a hole, then one byte). */
static int cmd_sparse(int argc, char** argv) {
  (void)argc;
  signal(SIGXFSZ, SIG_IGN); /* report EFBIG instead of dying, so the test sees the errno */
  off_t size = (off_t)strtoll(argv[1], NULL, 0);
  int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return probe_errno("open");
  if (ftruncate(fd, size) != 0) return probe_errno("ftruncate");
  if (pwrite(fd, "x", 1, size - 1) != 1) return probe_errno("pwrite");
  struct stat st;
  fstat(fd, &st);
  printf("size %lld blocks %lld\n", (long long)st.st_size, (long long)st.st_blocks);
  return 0;
}

/* zombies N: fork up to N children that exit at once and are never waited for. */
static int cmd_zombies(int argc, char** argv) {
  (void)argc;
  long n = atol(argv[0]), made = 0, failures = 0;
  for (long i = 0; i < n && failures < 100; ++i) {
    pid_t p = fork();
    if (p == 0) _exit(0);
    if (p > 0) {
      ++made;
    } else {
      ++failures;
    }
  }
  printf("zombies: %ld failures: %ld\n", made, failures);
  return 0;
}

/* nofile: open /dev/null until the kernel refuses. */
static int cmd_nofile(int argc, char** argv) {
  (void)argc;
  (void)argv;
  long n = 0;
  while (open("/dev/null", O_RDONLY) >= 0) ++n;
  printf("opened %ld: %s\n", n, strerror(errno));
  return 0;
}

/* Double fork + setsid + SIGHUP/SIGTERM ignored: a daemon marked with TOKEN in its cmdline. */
static void spawn_daemon(const char* token) {
  pid_t p = fork();
  if (p == 0) {
    setsid();
    signal(SIGHUP, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    if (fork() == 0) {
      execl("/probe", "/probe", "sleep", "600000", token, (char*)NULL);
      for (;;) probe_sleep_ms(1000);
    }
    _exit(0);
  }
  waitpid(p, NULL, 0);
}

static int cmd_daemon(int argc, char** argv) {
  spawn_daemon(argc > 0 ? argv[0] : "ignite-daemon");
  printf("daemonized\n");
  return 0;
}

/* then-daemon TOKEN CMD...: leave a daemon behind, then run another probe command. */
static int cmd_then_daemon(int argc, char** argv) {
  spawn_daemon(argv[0]);
  printf("daemonized\n");
  fflush(stdout);
  return probe_dispatch(argc - 1, argv + 1);
}

const struct probe_cmd probe_resource_cmds[] = {
    {"alloc", 1, cmd_alloc, "alloc MB"},
    {"mmap", 1, cmd_mmap, "mmap MB"},
    {"reread", 3, cmd_reread, "reread MB PATH PASSES"},
    {"forkbomb", 0, cmd_forkbomb, "forkbomb"},
    {"threads", 1, cmd_threads, "threads N"},
    {"flood", 1, cmd_flood, "flood BYTES [out|err|both]"},
    {"stack", 0, cmd_stack, "stack"},
    {"spin", 1, cmd_spin, "spin MS [THREADS]"},
    {"stopself", 0, cmd_stopself, "stopself"},
    {"stopchild", 1, cmd_stopchild, "stopchild TOKEN"},
    {"fill", 2, cmd_fill, "fill PATH MB"},
    {"inodes", 2, cmd_inodes, "inodes DIR N"},
    {"sparse", 2, cmd_sparse, "sparse PATH BYTES"},
    {"zombies", 1, cmd_zombies, "zombies N"},
    {"nofile", 0, cmd_nofile, "nofile"},
    {"daemon", 0, cmd_daemon, "daemon [TOKEN]"},
    {"then-daemon", 2, cmd_then_daemon, "then-daemon TOKEN CMD [ARGS]"},
    {NULL, 0, NULL, NULL},
};
