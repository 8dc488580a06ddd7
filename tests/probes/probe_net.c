/* probe: network reachability from inside the sandbox. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe.h"

static int fill_addr(struct sockaddr_in* a, const char* ip, const char* port) {
  memset(a, 0, sizeof *a);
  a->sin_family = AF_INET;
  a->sin_port = htons((unsigned short)atoi(port));
  return inet_pton(AF_INET, ip, &a->sin_addr) == 1 ? 0 : -1;
}

/* connect IP PORT: TCP connect. */
static int cmd_connect(int argc, char** argv) {
  (void)argc;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return probe_errno("socket");
  struct sockaddr_in a;
  if (fill_addr(&a, argv[0], argv[1]) != 0) return probe_errno("address");
  if (connect(s, (struct sockaddr*)&a, sizeof a) != 0) return probe_errno("connect");
  printf("connected\n");
  return 0;
}

/* udp IP PORT: send one datagram (a DNS-shaped query to port 53 is just bytes here). */
static int cmd_udp(int argc, char** argv) {
  (void)argc;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) return probe_errno("socket");
  struct sockaddr_in a;
  if (fill_addr(&a, argv[0], argv[1]) != 0) return probe_errno("address");
  static const char query[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                              "\x07" "example\x03" "com\x00\x00\x01\x00\x01";
  if (sendto(s, query, sizeof query - 1, 0, (struct sockaddr*)&a, sizeof a) < 0)
    return probe_errno("sendto");
  printf("sent\n");
  return 0;
}

/* raw: an ICMP raw socket and a packet socket (both need CAP_NET_RAW). */
static int cmd_raw(int argc, char** argv) {
  (void)argc;
  (void)argv;
  int failures = 0;
  if (socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) < 0) {
    printf("raw: %s\n", strerror(errno));
    ++failures;
  } else {
    printf("raw: opened\n");
  }
  if (socket(AF_PACKET, SOCK_RAW, 0) < 0) {
    printf("packet: %s\n", strerror(errno));
    ++failures;
  } else {
    printf("packet: opened\n");
  }
  return failures == 2 ? 1 : 0;
}

/* ifup: bring the loopback interface up (needs CAP_NET_ADMIN in the netns owner). */
static int cmd_ifup(int argc, char** argv) {
  (void)argc;
  (void)argv;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) return probe_errno("socket");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) return probe_errno("SIOCGIFFLAGS");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) return probe_errno("SIOCSIFFLAGS");
  printf("lo up\n");
  return 0;
}

/* ifaces: the interfaces this network namespace has. */
static int cmd_ifaces(int argc, char** argv) {
  (void)argc;
  (void)argv;
  struct if_nameindex* list = if_nameindex();
  if (!list) return probe_errno("if_nameindex");
  for (struct if_nameindex* i = list; i->if_index; ++i) printf("%s\n", i->if_name);
  return 0;
}

/* The errno's name ("EAFNOSUPPORT"), or "ok" for a call that succeeded. */
static const char* outcome(long r, int err) {
  if (r >= 0) return "ok";
  const char* name = strerrorname_np(err);
  return name ? name : "E?";
}

/* socket(2)/socketpair(2) as raw syscalls, so all 64 bits of each argument reach the filter. */
static long raw_socket(long family, long type, long protocol, int* err) {
  errno = 0;
  long r = syscall(SYS_socket, family, type, protocol);
  *err = errno;
  if (r >= 0) close((int)r);
  return r;
}

static long raw_socketpair(long family, long type, long protocol, int* err) {
  int sv[2];
  errno = 0;
  long r = syscall(SYS_socketpair, family, type, protocol, sv);
  *err = errno;
  if (r >= 0) {
    close(sv[0]);
    close(sv[1]);
  }
  return r;
}

/* socket FAMILY TYPE PROTOCOL / socketpair ...: "socket: ok" or "socket: EAFNOSUPPORT". */
static int socket_cmd(const char* what, long (*call)(long, long, long, int*), char** argv) {
  int err = 0;
  long r = call(probe_num(argv[0]), probe_num(argv[1]), probe_num(argv[2]), &err);
  printf("%s: %s\n", what, outcome(r, err));
  return r < 0;
}

static int cmd_socket(int argc, char** argv) {
  (void)argc;
  return socket_cmd("socket", raw_socket, argv);
}

static int cmd_socketpair(int argc, char** argv) {
  (void)argc;
  return socket_cmd("socketpair", raw_socketpair, argv);
}

/* Type bits the kernel refuses (EINVAL) before it looks at the family: an answer that tells a
 * seccomp refusal (EAFNOSUPPORT) apart from the kernel's own, whatever families it was built with.
 */
#define INVALID_TYPE 0x40000000L

/* socket-families END [probe-only]: one line per family 0..END-1:
 * "N invalid=E pair-invalid=E stream=E dgram=E seqpacket=E raw=E". invalid/pair-invalid
 * pass INVALID_TYPE; the others try a real socket of each type (protocol 0). With "probe-only"
 * only the INVALID_TYPE calls are made (for the host side, where a real socket of some family
 * would make the kernel load its module). */
static int cmd_socket_families(int argc, char** argv) {
  const long end = probe_num(argv[0]);
  const int real = argc < 2 || strcmp(argv[1], "probe-only") != 0;
  static const struct {
    const char* name;
    long type;
  } types[] = {{"stream", SOCK_STREAM},
               {"dgram", SOCK_DGRAM},
               {"seqpacket", SOCK_SEQPACKET},
               {"raw", SOCK_RAW}};
  for (long f = 0; f < end; ++f) {
    int err = 0;
    printf("%ld", f);
    long r = raw_socket(f, INVALID_TYPE, 0, &err);
    printf(" invalid=%s", outcome(r, err));
    r = raw_socketpair(f, INVALID_TYPE, 0, &err);
    printf(" pair-invalid=%s", outcome(r, err));
    for (size_t t = 0; real && t < sizeof types / sizeof types[0]; ++t) {
      r = raw_socket(f, types[t].type, 0, &err);
      printf(" %s=%s", types[t].name, outcome(r, err));
    }
    printf("\n");
  }
  return 0;
}

/* vsock [CID PORT]: socket(AF_VSOCK), bind to VMADDR_CID_ANY, then (with CID) connect; one
 * line per step that was reached ("socket: ok", "bind: ok", "connect: ECONNRESET", ...). */
static int cmd_vsock(int argc, char** argv) {
  int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  printf("socket: %s\n", outcome(s, errno));
  if (s < 0) return 1;
  struct sockaddr_vm any;
  memset(&any, 0, sizeof any);
  any.svm_family = AF_VSOCK;
  any.svm_cid = VMADDR_CID_ANY;
  any.svm_port = VMADDR_PORT_ANY;
  int r = bind(s, (struct sockaddr*)&any, sizeof any);
  printf("bind: %s\n", outcome(r, errno));
  if (argc >= 2) {
    struct sockaddr_vm peer = any;
    peer.svm_cid = (unsigned)probe_num(argv[0]);
    peer.svm_port = (unsigned)probe_num(argv[1]);
    r = connect(s, (struct sockaddr*)&peer, sizeof peer);
    printf("connect: %s\n", outcome(r, errno));
  }
  close(s);
  return 0;
}

const struct probe_cmd probe_net_cmds[] = {
    {"socket", 3, cmd_socket, "socket FAMILY TYPE PROTOCOL"},
    {"socketpair", 3, cmd_socketpair, "socketpair FAMILY TYPE PROTOCOL"},
    {"socket-families", 1, cmd_socket_families, "socket-families END [probe-only]"},
    {"vsock", 0, cmd_vsock, "vsock [CID PORT]"},
    {"connect", 2, cmd_connect, "connect IP PORT"},
    {"udp", 2, cmd_udp, "udp IP PORT"},
    {"raw", 0, cmd_raw, "raw"},
    {"ifup", 0, cmd_ifup, "ifup"},
    {"ifaces", 0, cmd_ifaces, "ifaces"},
    {NULL, 0, NULL, NULL},
};
