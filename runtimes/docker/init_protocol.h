/* The protocol between the docker backend (src/sandbox/docker/) and ignite-docker-init, the
 * container's PID 1 (runtimes/docker/init.c). Included by both: C on the init's side, C++ on
 * the host's (which static_asserts that the report is the native init's ChildReport).
 *
 *   init -> host:  connect(2) to IGNITE_INIT_SOCKET (a listening socket of the host, bound into
 *                  the container read-only; unlinked once accepted: one connection only)
 *   host -> init:  one sendmsg: struct ignite_init_header, with `nfds` descriptors (SCM_RIGHTS)
 *                  in the order of enum ignite_init_fd; then rlimit_count struct
 *                  ignite_init_rlimit and filter_len struct sock_filter on the stream
 *   init:          forks the program (stdio = the three pipes, rlimits, the seccomp filter, its
 *                  listener sent over the notify socket as the native init does), waits for it,
 *                  writes one struct ignite_init_report (stage 0, wait status, rusage) to the
 *                  report pipe, or a failure report (stage, errno) if the program never started,
 *                  then waits until the host closes the socket (it reads the container's cgroup
 *                  meanwhile) and exits: the container, and everything left in it, ends with it.
 */
#ifndef IGNITE_INIT_PROTOCOL_H
#define IGNITE_INIT_PROTOCOL_H
#include <stdint.h>

#define IGNITE_INIT_SOCKET "/ignite/ctl/init.sock"
/* The program's environment: "K=V" strings, each ended by a NUL (the container's own is not
 * passed on: docker adds HOSTNAME and a PATH of its own). */
#define IGNITE_INIT_ENV_FILE "/ignite/ctl/env"
#define IGNITE_INIT_MAX_ENV (2u << 20)
#define IGNITE_INIT_MAGIC 0x31494749u /* "IGI1" */
#define IGNITE_INIT_VERSION 1u
#define IGNITE_INIT_LISTENER 1u /* flags: load the filter with a listener, send it over NOTIFY */
#define IGNITE_INIT_MAX_RLIMITS 16u
#define IGNITE_INIT_MAX_FILTER 4096u /* BPF_MAXINSNS */

enum ignite_init_fd {
  IGNITE_INIT_FD_STDIN,  /* read end */
  IGNITE_INIT_FD_STDOUT, /* write end */
  IGNITE_INIT_FD_STDERR, /* write end */
  IGNITE_INIT_FD_REPORT, /* write end: struct ignite_init_report records */
  IGNITE_INIT_FD_EXEC,   /* write end, held by the program until its execve (close-on-exec) */
  IGNITE_INIT_FD_NOTIFY, /* unix socket: the seccomp listener goes here (with the flag only) */
  IGNITE_INIT_NFDS
};

struct ignite_init_header {
  uint32_t magic;
  uint32_t version;
  uint32_t flags;
  uint32_t nfds; /* IGNITE_INIT_NFDS, or one less without IGNITE_INIT_LISTENER */
  uint32_t rlimit_count;
  uint32_t filter_len; /* instructions */
};

struct ignite_init_rlimit {
  int32_t resource;
  uint32_t pad;
  uint64_t value; /* soft = hard */
};

/* Stages, numbered as the native init's ChildStage (src/sandbox/native/child.hpp). */
enum ignite_init_stage {
  IGNITE_STAGE_FINISHED = 0,
  IGNITE_STAGE_FORK = 11,
  IGNITE_STAGE_RLIMIT = 12,
  IGNITE_STAGE_STDIO = 13,
  IGNITE_STAGE_SECCOMP = 15,
  IGNITE_STAGE_EXEC = 16,
  IGNITE_STAGE_SECCOMP_LISTENER = 18
};

struct ignite_init_report {
  int32_t stage;
  int32_t err;
  int32_t detail;
  int32_t status;    /* wait status, for IGNITE_STAGE_FINISHED */
  int64_t cpu_usec;  /* the program's rusage (user + system) */
  int64_t maxrss_kb;
};

#endif
