/* probe: a small static multi-call binary that makes isolation observable from inside a
 * sandbox. Each subcommand does one thing and reports on stdout; see usage() below. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static int usage(void) {
  fprintf(stderr,
          "usage: probe exit N | sleep MS | alloc MB | forkbomb | flood BYTES [err] | "
          "connect IP PORT | read PATH | write PATH | ls DIR | env | id | daemon | "
          "syscall NR | int80 | hostname | stdin\n");
  return 2;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const char* cmd = argv[1];
  if (!strcmp(cmd, "exit") && argc > 2) return atoi(argv[2]);
  if (!strcmp(cmd, "sleep") && argc > 2) {
    sleep_ms(atol(argv[2]));
    return 0;
  }
  if (!strcmp(cmd, "alloc") && argc > 2) {
    /* Touch every page so the memory is really charged, 1 MiB at a time. */
    long mb = atol(argv[2]);
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
  if (!strcmp(cmd, "forkbomb")) {
    int failures = 0;
    for (int i = 0; i < 100000 && failures < 1000; ++i) {
      pid_t p = fork();
      if (p == 0) {
        sleep_ms(60000);
        _exit(0);
      }
      if (p < 0) ++failures;
    }
    printf("fork failures: %d\n", failures);
    fflush(stdout);
    return 0;
  }
  if (!strcmp(cmd, "flood") && argc > 2) {
    long total = atol(argv[2]);
    int fd = (argc > 3 && !strcmp(argv[3], "err")) ? 2 : 1;
    char buf[65536];
    memset(buf, 'x', sizeof buf);
    while (total > 0) {
      long n = total < (long)sizeof buf ? total : (long)sizeof buf;
      ssize_t w = write(fd, buf, (size_t)n);
      if (w <= 0) return 4;
      total -= w;
    }
    return 0;
  }
  if (!strcmp(cmd, "connect") && argc > 3) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) {
      printf("socket: %s\n", strerror(errno));
      return 1;
    }
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(argv[3]));
    inet_pton(AF_INET, argv[2], &a.sin_addr);
    if (connect(s, (struct sockaddr*)&a, sizeof a) != 0) {
      printf("connect: %s\n", strerror(errno));
      return 1;
    }
    printf("connected\n");
    return 0;
  }
  if (!strcmp(cmd, "read") && argc > 2) {
    int fd = open(argv[2], O_RDONLY);
    if (fd < 0) {
      printf("open: %s\n", strerror(errno));
      return 1;
    }
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
    return 0;
  }
  if (!strcmp(cmd, "write") && argc > 2) {
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
      printf("open: %s\n", strerror(errno));
      return 1;
    }
    printf("written\n");
    return 0;
  }
  if (!strcmp(cmd, "ls") && argc > 2) {
    DIR* d = opendir(argv[2]);
    if (!d) {
      printf("opendir: %s\n", strerror(errno));
      return 1;
    }
    struct dirent* e;
    while ((e = readdir(d))) {
      if (e->d_name[0] != '.') printf("%s\n", e->d_name);
    }
    return 0;
  }
  if (!strcmp(cmd, "env")) {
    for (char** e = environ; *e; ++e) printf("%s\n", *e);
    return 0;
  }
  if (!strcmp(cmd, "id")) {
    printf("uid=%d gid=%d pid=%d\n", getuid(), getgid(), getpid());
    return 0;
  }
  if (!strcmp(cmd, "hostname")) {
    char h[256] = {0};
    gethostname(h, sizeof h - 1);
    printf("%s\n", h);
    return 0;
  }
  if (!strcmp(cmd, "daemon")) {
    /* Double fork + setsid: the grandchild is orphaned and would outlive a naive supervisor. */
    pid_t p = fork();
    if (p == 0) {
      setsid();
      if (fork() == 0) {
        for (;;) sleep_ms(1000);
      }
      _exit(0);
    }
    waitpid(p, NULL, 0);
    printf("daemonized\n");
    return 0;
  }
  if (!strcmp(cmd, "syscall") && argc > 2) {
    long r = syscall(atol(argv[2]), 0, 0, 0, 0, 0, 0);
    printf("result=%ld errno=%s\n", r, r < 0 ? strerror(errno) : "0");
    return r < 0 ? 1 : 0;
  }
  if (!strcmp(cmd, "int80")) {
    /* getpid through the i386 ABI: must be killed by the filter's architecture check. */
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
    printf("int80 returned %ld\n", r);
    return 0;
  }
  if (!strcmp(cmd, "stdin")) {
    char buf[4096];
    ssize_t n;
    long total = 0;
    while ((n = read(0, buf, sizeof buf)) > 0) total += n;
    printf("stdin bytes=%ld\n", total);
    return 0;
  }
  return usage();
}
