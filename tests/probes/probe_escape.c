/* probe: escape and leak attempts (ABIs, namespaces, terminals, fds, shared kernel objects). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

/* getpid through the i386 ABI: must be stopped by the filter's architecture check. */
static int cmd_int80(int argc, char** argv) {
  (void)argc;
  (void)argv;
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
  printf("int80 returned %ld\n", r);
  return 0;
}

/* tiocsti: push a byte into our stdin's terminal input queue. */
static int cmd_tiocsti(int argc, char** argv) {
  (void)argc;
  (void)argv;
  char c = 'x';
  if (ioctl(0, TIOCSTI, &c) != 0) return probe_errno("ioctl(TIOCSTI)");
  printf("injected\n");
  return 0;
}

/* clone FLAGS: raw clone(2) with namespace flags; the child exits at once. */
static int cmd_clone(int argc, char** argv) {
  (void)argc;
  long flags = probe_num(argv[0]);
  long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (r == 0) _exit(0);
  if (r < 0) return probe_errno("clone");
  waitpid((pid_t)r, NULL, 0);
  printf("cloned\n");
  return 0;
}

static int cmd_clone3(int argc, char** argv) {
  (void)argc;
  (void)argv;
  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  ca.exit_signal = SIGCHLD;
  long r = syscall(SYS_clone3, &ca, sizeof ca);
  if (r == 0) _exit(0);
  if (r < 0) return probe_errno("clone3");
  waitpid((pid_t)r, NULL, 0);
  printf("cloned\n");
  return 0;
}

/* chroot-escape: the classic: chroot into a subdirectory, then walk ".." past the root. */
static int cmd_chroot_escape(int argc, char** argv) {
  (void)argc;
  (void)argv;
  mkdir("/tmp/jail", 0755);
  if (chroot("/tmp/jail") != 0) probe_errno("chroot");
  for (int i = 0; i < 64; ++i) (void)!chdir("..");
  if (chroot(".") != 0) probe_errno("chroot(.)");
  DIR* d = opendir(".");
  if (!d) return probe_errno("opendir");
  struct dirent* e;
  while ((e = readdir(d))) {
    if (e->d_name[0] != '.') printf("%s\n", e->d_name);
  }
  return 0;
}

/* fds: every open fd with what it points to. */
static int cmd_fds(int argc, char** argv) {
  (void)argc;
  (void)argv;
  DIR* d = opendir("/proc/self/fd");
  if (!d) return probe_errno("opendir");
  int self = dirfd(d);
  struct dirent* e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || atoi(e->d_name) == self) continue;
    char link[64], target[4096] = {0};
    snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
    if (readlink(link, target, sizeof target - 1) < 0) strcpy(target, "?");
    printf("%s -> %s\n", e->d_name, target);
  }
  return 0;
}

/* symlink TARGET LINK */
static int cmd_symlink(int argc, char** argv) {
  (void)argc;
  if (symlink(argv[0], argv[1]) != 0) return probe_errno("symlink");
  printf("linked\n");
  return 0;
}

/* add_key: put a secret in the user keyring (shared per uid across the host if allowed). */
static int cmd_add_key(int argc, char** argv) {
  (void)argc;
  (void)argv;
  long r = syscall(SYS_add_key, "user", "ignite-probe", "secret", 6, -4 /* USER_KEYRING */);
  if (r < 0) return probe_errno("add_key");
  printf("key %ld\n", r);
  return 0;
}

#define MARK_KEY 0x1917

static int bind_abstract(const char* name) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (s < 0) return -1;
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  strncpy(a.sun_path + 1, name, sizeof a.sun_path - 2);
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
  if (bind(s, (struct sockaddr*)&a, len) != 0 || listen(s, 1) != 0) return -1;
  return s;
}

static int connect_abstract(const char* name) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  strncpy(a.sun_path + 1, name, sizeof a.sun_path - 2);
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
  return connect(s, (struct sockaddr*)&a, len);
}

/* plant MS: leave marks in every place two sandboxes could share, say "planted", wait MS. */
static int cmd_plant(int argc, char** argv) {
  (void)argc;
  int ok = 1;
  int fd = open("/tmp/ignite-mark", O_WRONLY | O_CREAT, 0666);
  ok &= fd >= 0;
  fd = open("/dev/shm/ignite-mark", O_WRONLY | O_CREAT, 0666);
  ok &= fd >= 0;
  ok &= bind_abstract("ignite-mark") >= 0;
  ok &= shmget(MARK_KEY, 4096, IPC_CREAT | 0666) >= 0;
  ok &= msgget(MARK_KEY, IPC_CREAT | 0666) >= 0;
  printf(ok ? "planted\n" : "plant failed: %s\n", strerror(errno));
  fflush(stdout);
  probe_sleep_ms(atol(argv[0]));
  return 0;
}

/* look: report which of plant's marks are visible from here. */
static int cmd_look(int argc, char** argv) {
  (void)argc;
  (void)argv;
  struct stat st;
  printf("tmp: %s\n", stat("/tmp/ignite-mark", &st) == 0 ? "seen" : "absent");
  printf("shm: %s\n", stat("/dev/shm/ignite-mark", &st) == 0 ? "seen" : "absent");
  printf("abstract: %s\n", connect_abstract("ignite-mark") == 0 ? "seen" : "absent");
  printf("sysv-shm: %s\n", shmget(MARK_KEY, 0, 0) >= 0 ? "seen" : "absent");
  printf("sysv-msg: %s\n", msgget(MARK_KEY, 0) >= 0 ? "seen" : "absent");
  return 0;
}

const struct probe_cmd probe_escape_cmds[] = {
    {"int80", 0, cmd_int80, "int80"},
    {"tiocsti", 0, cmd_tiocsti, "tiocsti"},
    {"clone", 1, cmd_clone, "clone FLAGS"},
    {"clone3", 0, cmd_clone3, "clone3"},
    {"chroot-escape", 0, cmd_chroot_escape, "chroot-escape"},
    {"fds", 0, cmd_fds, "fds"},
    {"symlink", 2, cmd_symlink, "symlink TARGET LINK"},
    {"add-key", 0, cmd_add_key, "add-key"},
    {"plant", 1, cmd_plant, "plant MS"},
    {"look", 0, cmd_look, "look"},
    {NULL, 0, NULL, NULL},
};
