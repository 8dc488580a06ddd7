/* probe: network reachability from inside the sandbox. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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

const struct probe_cmd probe_net_cmds[] = {
    {"connect", 2, cmd_connect, "connect IP PORT"},
    {"udp", 2, cmd_udp, "udp IP PORT"},
    {"raw", 0, cmd_raw, "raw"},
    {"ifup", 0, cmd_ifup, "ifup"},
    {"ifaces", 0, cmd_ifaces, "ifaces"},
    {NULL, 0, NULL, NULL},
};
