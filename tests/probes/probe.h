/* probe: shared declarations of the static multi-call probe (see probe.c for the list). */
#ifndef IGNITE_PROBE_H
#define IGNITE_PROBE_H

/* Each command gets argv after its own name (argc counts only those) and returns the exit
 * status. Results go to stdout, one fact per line, so tests can match on them. */
typedef int (*probe_fn)(int argc, char** argv);

struct probe_cmd {
  const char* name;
  int min_args;
  probe_fn fn;
  const char* help;
};

/* The command tables, one per concern (NULL-name terminated). */
extern const struct probe_cmd probe_basic_cmds[];
extern const struct probe_cmd probe_resource_cmds[];
extern const struct probe_cmd probe_escape_cmds[];
extern const struct probe_cmd probe_net_cmds[];

/* Runs `argv[0] argv[1..]` as a probe command (used by commands that chain another one). */
int probe_dispatch(int argc, char** argv);

void probe_sleep_ms(long ms);
/* "<what>: <strerror(errno)>\n" on stdout; returns 1. */
int probe_errno(const char* what);
/* Parses a decimal/hex number; "self" is the probe's own pid. */
long probe_num(const char* s);

#endif
