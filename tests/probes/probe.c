/* probe: a small static multi-call binary that makes isolation observable from inside a
 * sandbox. Each subcommand does one thing and reports on stdout; `probe help` lists them.
 * Static, so it needs nothing mounted in the sandbox but itself. */
#define _GNU_SOURCE
#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

void probe_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int probe_errno(const char* what) {
  printf("%s: %s\n", what, strerror(errno));
  return 1;
}

long probe_num(const char* s) {
  if (!strcmp(s, "self")) return (long)getpid();
  return strtol(s, NULL, 0);
}

static int cmd_exit(int argc, char** argv) {
  (void)argc;
  return atoi(argv[0]);
}

/* sleep MS [TOKEN]: the token only marks the process in /proc/<pid>/cmdline for the tests. */
static int cmd_sleep(int argc, char** argv) {
  (void)argc;
  probe_sleep_ms(atol(argv[0]));
  return 0;
}

static int cmd_read(int argc, char** argv) {
  (void)argc;
  int fd = open(argv[0], O_RDONLY);
  if (fd < 0) return probe_errno("open");
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
  if (n < 0) return probe_errno("read");
  return 0;
}

/* write PATH...: one line per path, "written" or the error. */
static int cmd_write(int argc, char** argv) {
  int failures = 0;
  for (int i = 0; i < argc; ++i) {
    int fd = open(argv[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
      ++failures;
      if (argc == 1) return probe_errno("open");
      printf("%s: %s\n", argv[i], strerror(errno));
      continue;
    }
    close(fd);
    if (argc == 1) {
      printf("written\n");
    } else {
      printf("%s: written\n", argv[i]);
    }
  }
  return failures ? 1 : 0;
}

static int cmd_ls(int argc, char** argv) {
  (void)argc;
  DIR* d = opendir(argv[0]);
  if (!d) return probe_errno("opendir");
  struct dirent* e;
  while ((e = readdir(d))) {
    if (e->d_name[0] != '.') printf("%s\n", e->d_name);
  }
  closedir(d);
  return 0;
}

static int cmd_env(int argc, char** argv) {
  (void)argc;
  (void)argv;
  for (char** e = environ; *e; ++e) printf("%s\n", *e);
  return 0;
}

static int cmd_id(int argc, char** argv) {
  (void)argc;
  (void)argv;
  printf("uid=%d gid=%d pid=%d euid=%d egid=%d\n", getuid(), getgid(), getpid(), geteuid(),
         getegid());
  return 0;
}

static int cmd_hostname(int argc, char** argv) {
  (void)argc;
  (void)argv;
  char h[256] = {0};
  gethostname(h, sizeof h - 1);
  printf("%s\n", h);
  return 0;
}

static int cmd_stdin(int argc, char** argv) {
  (void)argc;
  (void)argv;
  char buf[4096];
  ssize_t n;
  long total = 0;
  while ((n = read(0, buf, sizeof buf)) > 0) total += n;
  printf("stdin bytes=%ld\n", total);
  return 0;
}

/* syscall NR [ARG...]: up to six numeric arguments ("self" = own pid). */
static int cmd_syscall(int argc, char** argv) {
  long a[6] = {0};
  for (int i = 1; i < argc && i <= 6; ++i) a[i - 1] = probe_num(argv[i]);
  errno = 0;
  long r = syscall(probe_num(argv[0]), a[0], a[1], a[2], a[3], a[4], a[5]);
  int e = errno;
  printf("result=%ld errno=%s\n", r, r < 0 ? strerror(e) : "0");
  return r < 0 ? 1 : 0;
}

/* exec PATH [ARG...]: replace the probe (e.g. with a setuid copy of itself). */
static int cmd_exec(int argc, char** argv) {
  (void)argc;
  execv(argv[0], argv);
  return probe_errno("execv");
}

const struct probe_cmd probe_basic_cmds[] = {
    {"exit", 1, cmd_exit, "exit N"},
    {"sleep", 1, cmd_sleep, "sleep MS [TOKEN]"},
    {"read", 1, cmd_read, "read PATH"},
    {"write", 1, cmd_write, "write PATH..."},
    {"ls", 1, cmd_ls, "ls DIR"},
    {"env", 0, cmd_env, "env"},
    {"id", 0, cmd_id, "id"},
    {"hostname", 0, cmd_hostname, "hostname"},
    {"stdin", 0, cmd_stdin, "stdin"},
    {"syscall", 1, cmd_syscall, "syscall NR [ARG...]"},
    {"exec", 1, cmd_exec, "exec PATH [ARG...]"},
    {NULL, 0, NULL, NULL},
};

static const struct probe_cmd* const tables[] = {probe_basic_cmds, probe_resource_cmds,
                                                 probe_escape_cmds, probe_net_cmds};

static int usage(void) {
  fprintf(stderr, "usage: probe COMMAND [ARGS]\n");
  for (size_t t = 0; t < sizeof tables / sizeof tables[0]; ++t) {
    for (const struct probe_cmd* c = tables[t]; c->name; ++c) fprintf(stderr, "  %s\n", c->help);
  }
  return 2;
}

int probe_dispatch(int argc, char** argv) {
  if (argc < 1) return usage();
  for (size_t t = 0; t < sizeof tables / sizeof tables[0]; ++t) {
    for (const struct probe_cmd* c = tables[t]; c->name; ++c) {
      if (strcmp(c->name, argv[0]) != 0) continue;
      if (argc - 1 < c->min_args) return usage();
      int rc = c->fn(argc - 1, argv + 1);
      fflush(stdout);
      return rc;
    }
  }
  return usage();
}

int main(int argc, char** argv) {
  /* Line-buffered even into a pipe: tests wait for "ready" lines while the probe lives on. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  return probe_dispatch(argc - 1, argv + 1);
}
