/* ignite-docker-init: PID 1 of every container the docker backend starts (protocol in
 * init_protocol.h). Docker gives the container its namespaces, root filesystem, user,
 * capabilities and cgroup; this adds what the native init adds between clone and execve, with
 * the host's own data: the program's stdio are pipes of the host (no attach stream, no log
 * driver in between), its rlimits, the very seccomp filter the native backend loads (with its
 * listener, so a blocked call is named), the exec notification and the exit report. Static: it
 * needs nothing in the image but itself. Trusted input only: the host is the one peer of its
 * socket, and the program does not exist until this has read everything. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "init_protocol.h"

static int fds[IGNITE_INIT_NFDS] = {-1, -1, -1, -1, -1, -1};

static void die(const char *what) {
  fprintf(stderr, "ignite-docker-init: %s: %s\n", what, strerror(errno));
  _exit(125);
}

static void report(int stage, int err, int status, const struct rusage *ru) {
  struct ignite_init_report r;
  memset(&r, 0, sizeof r);
  r.stage = stage;
  r.err = err;
  r.status = status;
  if (ru) {
    r.cpu_usec = (int64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000000 + ru->ru_utime.tv_usec +
                 ru->ru_stime.tv_usec;
    r.maxrss_kb = ru->ru_maxrss;
  }
  (void)!write(fds[IGNITE_INIT_FD_REPORT], &r, sizeof r);
}

/* In the program's process: a failure before execve is reported, and the program never runs. */
static void child_fail(int stage) {
  report(stage, errno, 0, NULL);
  _exit(127);
}

/* The program's environment (IGNITE_INIT_ENV_FILE), as a NULL-terminated array. */
static char **read_env(void) {
  static char data[IGNITE_INIT_MAX_ENV + 1];
  int fd = open(IGNITE_INIT_ENV_FILE, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open " IGNITE_INIT_ENV_FILE);
  size_t len = 0;
  for (;;) {
    ssize_t r = read(fd, data + len, IGNITE_INIT_MAX_ENV - len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("read " IGNITE_INIT_ENV_FILE);
    if (r == 0) break;
    len += (size_t)r;
    if (len == IGNITE_INIT_MAX_ENV) {
      errno = E2BIG;
      die("read " IGNITE_INIT_ENV_FILE);
    }
  }
  close(fd);
  size_t count = 0;
  for (size_t i = 0; i < len; ++i) count += data[i] == '\0';
  char **env = calloc(count + 1, sizeof *env);
  if (!env) die("calloc");
  size_t n = 0;
  for (size_t i = 0; i < len && n < count; ++n) {
    env[n] = data + i;
    i += strlen(data + i) + 1;
  }
  env[n] = NULL;
  return env;
}

static int connect_host(void) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, IGNITE_INIT_SOCKET);
  int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket");
  /* The host listens before it creates the container; retrying covers only a slow bind. */
  for (int i = 0; i < 200; ++i) {
    if (connect(s, (struct sockaddr *)&addr, sizeof addr) == 0) return s;
    if (errno != ENOENT && errno != ECONNREFUSED && errno != EINTR) break;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  die("connect " IGNITE_INIT_SOCKET);
  return -1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: ignite-docker-init PROGRAM [ARG...] (run by Ignite's docker backend)\n");
    return 125;
  }
  char **env = read_env();
  int s = connect_host();

  static char buf[sizeof(struct ignite_init_header) + IGNITE_INIT_MAX_RLIMITS * sizeof(struct ignite_init_rlimit) +
                  IGNITE_INIT_MAX_FILTER * sizeof(struct sock_filter)];
  union {
    struct cmsghdr align;
    char space[CMSG_SPACE(sizeof(int) * IGNITE_INIT_NFDS)];
  } control;
  struct iovec iov = {buf, sizeof buf};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.space;
  msg.msg_controllen = sizeof control.space;
  ssize_t n;
  do n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n < (ssize_t)sizeof(struct ignite_init_header)) die("read the host's message");
  struct ignite_init_header h;
  memcpy(&h, buf, sizeof h);
  const size_t want = sizeof h + h.rlimit_count * sizeof(struct ignite_init_rlimit) +
                      (size_t)h.filter_len * sizeof(struct sock_filter);
  if (h.magic != IGNITE_INIT_MAGIC || h.version != IGNITE_INIT_VERSION || h.nfds > IGNITE_INIT_NFDS ||
      h.nfds < IGNITE_INIT_FD_NOTIFY || h.rlimit_count > IGNITE_INIT_MAX_RLIMITS ||
      h.filter_len > IGNITE_INIT_MAX_FILTER || (size_t)n != want || (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC))) {
    errno = EPROTO;
    die("the host's message");
  }
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int) * h.nfds)) {
    errno = EPROTO;
    die("the host's descriptors");
  }
  memcpy(fds, CMSG_DATA(c), sizeof(int) * h.nfds);
  const struct ignite_init_rlimit *limits = (const struct ignite_init_rlimit *)(buf + sizeof h);
  struct sock_fprog prog = {(unsigned short)h.filter_len,
                            (struct sock_filter *)(buf + sizeof h + h.rlimit_count * sizeof *limits)};

  /* The program runs as our uid: it must not ptrace or read this process's memory. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) die("PR_SET_DUMPABLE");

  pid_t pid = fork();
  if (pid < 0) {
    report(IGNITE_STAGE_FORK, errno, 0, NULL);
    return 127;
  }
  if (pid == 0) {
    if (dup2(fds[IGNITE_INIT_FD_STDIN], 0) < 0 || dup2(fds[IGNITE_INIT_FD_STDOUT], 1) < 0 ||
        dup2(fds[IGNITE_INIT_FD_STDERR], 2) < 0)
      child_fail(IGNITE_STAGE_STDIO);
    for (uint32_t i = 0; i < h.rlimit_count; ++i) {
      struct rlimit rl = {limits[i].value, limits[i].value};
      if (setrlimit(limits[i].resource, &rl) != 0) child_fail(IGNITE_STAGE_RLIMIT);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(IGNITE_STAGE_SECCOMP);
    if (h.filter_len > 0) {
      if (h.flags & IGNITE_INIT_LISTENER) {
        long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
        if (listener < 0) child_fail(IGNITE_STAGE_SECCOMP);
        /* As sys::send_fd: one byte, the descriptor attached. */
        char byte = 0;
        struct iovec one = {&byte, 1};
        union {
          struct cmsghdr align;
          char space[CMSG_SPACE(sizeof(int))];
        } out;
        struct msghdr m;
        memset(&m, 0, sizeof m);
        m.msg_iov = &one;
        m.msg_iovlen = 1;
        m.msg_control = out.space;
        m.msg_controllen = sizeof out.space;
        struct cmsghdr *oc = CMSG_FIRSTHDR(&m);
        oc->cmsg_level = SOL_SOCKET;
        oc->cmsg_type = SCM_RIGHTS;
        oc->cmsg_len = CMSG_LEN(sizeof(int));
        int lfd = (int)listener;
        memcpy(CMSG_DATA(oc), &lfd, sizeof lfd);
        if (sendmsg(fds[IGNITE_INIT_FD_NOTIFY], &m, MSG_NOSIGNAL) != 1) child_fail(IGNITE_STAGE_SECCOMP_LISTENER);
        close(lfd);
      } else if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
        child_fail(IGNITE_STAGE_SECCOMP);
      }
    }
    execve(argv[1], argv + 1, env);
    child_fail(IGNITE_STAGE_EXEC);
  }

  /* Only the program holds the pipes now: EOF on them means it (and its children) are done. */
  for (int i = 0; i < IGNITE_INIT_NFDS; ++i) {
    if (i != IGNITE_INIT_FD_REPORT && fds[i] >= 0) close(fds[i]);
  }
  int status = 0;
  for (;;) {
    pid_t w = waitpid(-1, &status, 0); /* PID 1: orphans are reaped here too */
    if (w == pid) break;
    if (w < 0 && errno != EINTR) die("waitpid");
  }
  /* As the native init, whose exit ends its PID namespace: nothing the program left behind
   * (a daemon, a double fork) outlives it, holds its pipes open or keeps using memory. */
  kill(-1, SIGKILL);
  for (;;) {
    int ignored;
    if (waitpid(-1, &ignored, 0) < 0 && errno != EINTR) break;
  }
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  report(IGNITE_STAGE_FINISHED, 0, status, &ru);
  /* The container (and its cgroup, with the run's counters) lives until the host has read them
   * and closes the socket; if the host is gone, the socket is closed already. */
  for (;;) {
    char byte;
    ssize_t r = read(s, &byte, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r != 1) break;
  }
  return 0;
}
