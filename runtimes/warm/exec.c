/* Ignite's warm-slot bootstrap for programs that are a binary (go; any argv[0]), protocol in
 * src/sandbox/common/handoff.hpp. The sandbox is built ahead; when the job comes this execs
 * its argv[0] with the job's argv, environment and working directory, so the program starts
 * exactly as a cold run's would (same pid 2, same fds, same limits, seccomp filter and
 * identity, which execve keeps). Static: it needs nothing mounted. It parses only the JSON the
 * backend writes (strings in arrays, \uXXXX for control characters); anything else is a bug
 * of ours and ends the slot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *p;

static void die(const char *what) {
  fprintf(stderr, "ignite warm bootstrap: %s\n", what);
  _exit(126);
}

static void read_exact(char *buf, size_t n) {
  size_t off = 0;
  while (off < n) {
    ssize_t r = read(0, buf + off, n - off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) _exit(0); /* the slot was closed without a job */
    off += (size_t)r;
  }
}

static size_t header_length(void) {
  size_t n = 0;
  for (;;) {
    char c;
    read_exact(&c, 1);
    if (c == '\n') return n;
    if (c < '0' || c > '9' || n > (64u << 20)) die("bad header");
    n = n * 10 + (size_t)(c - '0');
  }
}

static void expect(char c) {
  if (*p != c) die("bad job");
  ++p;
}

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  die("bad escape");
  return 0;
}

/* Decodes a JSON string in place (the decoded form is never longer) and returns it. */
static char *string(void) {
  expect('"');
  char *out = (char *)p, *start = out;
  while (*p != '"') {
    if (*p == '\0') die("bad job");
    if (*p != '\\') {
      *out++ = *p++;
      continue;
    }
    ++p;
    switch (*p++) {
      case '"': *out++ = '"'; break;
      case '\\': *out++ = '\\'; break;
      case '/': *out++ = '/'; break;
      case 'n': *out++ = '\n'; break;
      case 'r': *out++ = '\r'; break;
      case 't': *out++ = '\t'; break;
      case 'b': *out++ = '\b'; break;
      case 'f': *out++ = '\f'; break;
      case 'u': {
        int v = 0;
        for (int i = 0; i < 4; ++i) v = v * 16 + hex(*p++);
        if (v == 0 || v >= 0x80) die("bad escape"); /* we write \u only for control characters */
        *out++ = (char)v;
        break;
      }
      default: die("bad escape");
    }
  }
  ++p;
  *out = '\0';
  return start;
}

static char **array(void) {
  size_t n = 0, cap = 16;
  char **items = malloc(cap * sizeof *items);
  expect('[');
  while (items && *p != ']') {
    if (n) expect(',');
    if (n + 2 > cap && !(items = realloc(items, (cap *= 2) * sizeof *items))) break;
    items[n++] = string();
  }
  if (!items) die("out of memory");
  ++p;
  items[n] = NULL;
  return items;
}

int main(void) {
  static const char ready[] = "\0ignite-ready\n";
  if (write(1, ready, sizeof ready - 1) != (ssize_t)(sizeof ready - 1)) _exit(126);
  size_t n = header_length();
  char *json = malloc(n + 1);
  if (!json) die("out of memory");
  read_exact(json, n);
  json[n] = '\0';
  p = json;
  char **argv = NULL, **env = NULL, *cwd = NULL, *nonce = NULL;
  expect('{');
  while (*p != '}') {
    if (argv || env || cwd || nonce) expect(',');
    const char *key = string();
    expect(':');
    if (strcmp(key, "argv") == 0) argv = array();
    else if (strcmp(key, "env") == 0) env = array();
    else if (strcmp(key, "cwd") == 0) cwd = string();
    else if (strcmp(key, "nonce") == 0) nonce = string();
    else die("bad job");
  }
  if (!argv || !argv[0] || !env || !cwd) die("bad job");
  if (chdir(cwd) != 0) {
    fprintf(stderr, "ignite: cannot enter %s: %s\n", cwd, strerror(errno));
    _exit(127);
  }
  execve(argv[0], argv, env);
  /* The program never existed: say so on stdout with the job's nonce, which no program sees,
   * so the backend reports it as a setup failure (as a cold start would), not a result. */
  const int err = errno;
  char marker[160];
  int len = snprintf(marker, sizeof marker, "%c%s %s %d\n", 0, "ignite-exec-failed", nonce ? nonce : "", err);
  if (len > 0 && (size_t)len < sizeof marker && write(1, marker, (size_t)len) < 0) _exit(127);
  fprintf(stderr, "ignite: cannot run %s: %s\n", argv[0], strerror(err));
  _exit(127);
}
