#include "sandbox/native/seccomp_policy.hpp"

#include <linux/netlink.h>
#include <sys/socket.h>

#include <array>
#include <charconv>
#include <iterator>
#include <sstream>
#include <utility>

namespace ignite::sandbox::native {
namespace {

constexpr std::string_view kDefaultPolicy =
#include "seccomp_default_policy.inc"
    ;

struct Named {
  std::string_view name;
  int number;
};

// Every family of <sys/socket.h> by its number (AF_UNSPEC is 0 ... AF_MCTP is 45).
constexpr std::string_view kFamilyNames[] = {
    "AF_UNSPEC",     "AF_UNIX",      "AF_INET",     "AF_AX25",  "AF_IPX",     "AF_APPLETALK",
    "AF_NETROM",     "AF_BRIDGE",    "AF_ATMPVC",   "AF_X25",   "AF_INET6",   "AF_ROSE",
    "AF_DECnet",     "AF_NETBEUI",   "AF_SECURITY", "AF_KEY",   "AF_NETLINK", "AF_PACKET",
    "AF_ASH",        "AF_ECONET",    "AF_ATMSVC",   "AF_RDS",   "AF_SNA",     "AF_IRDA",
    "AF_PPPOX",      "AF_WANPIPE",   "AF_LLC",      "AF_IB",    "AF_MPLS",    "AF_CAN",
    "AF_TIPC",       "AF_BLUETOOTH", "AF_IUCV",     "AF_RXRPC", "AF_ISDN",    "AF_PHONET",
    "AF_IEEE802154", "AF_CAIF",      "AF_ALG",      "AF_NFC",   "AF_VSOCK",   "AF_KCM",
    "AF_QIPCRTR",    "AF_SMC",       "AF_XDP",      "AF_MCTP"};
static_assert(std::size(kFamilyNames) == AF_MAX && AF_NETLINK == 16 && AF_VSOCK == 40,
              "kFamilyNames must list <sys/socket.h>'s families in order");

std::optional<int> family_named(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kFamilyNames); ++i)
    if (kFamilyNames[i] == name) return static_cast<int>(i);
  return std::nullopt;
}

// Netlink protocols (arg2 of socket(AF_NETLINK, ...)), the only protocols with names here.
constexpr std::array<Named, 21> kNetlinkProtocols{{
    {"NETLINK_ROUTE", NETLINK_ROUTE},
    {"NETLINK_USERSOCK", NETLINK_USERSOCK},
    {"NETLINK_FIREWALL", NETLINK_FIREWALL},
    {"NETLINK_SOCK_DIAG", NETLINK_SOCK_DIAG},
    {"NETLINK_NFLOG", NETLINK_NFLOG},
    {"NETLINK_XFRM", NETLINK_XFRM},
    {"NETLINK_SELINUX", NETLINK_SELINUX},
    {"NETLINK_ISCSI", NETLINK_ISCSI},
    {"NETLINK_AUDIT", NETLINK_AUDIT},
    {"NETLINK_FIB_LOOKUP", NETLINK_FIB_LOOKUP},
    {"NETLINK_CONNECTOR", NETLINK_CONNECTOR},
    {"NETLINK_NETFILTER", NETLINK_NETFILTER},
    {"NETLINK_IP6_FW", NETLINK_IP6_FW},
    {"NETLINK_DNRTMSG", NETLINK_DNRTMSG},
    {"NETLINK_KOBJECT_UEVENT", NETLINK_KOBJECT_UEVENT},
    {"NETLINK_GENERIC", NETLINK_GENERIC},
    {"NETLINK_SCSITRANSPORT", NETLINK_SCSITRANSPORT},
    {"NETLINK_ECRYPTFS", NETLINK_ECRYPTFS},
    {"NETLINK_RDMA", NETLINK_RDMA},
    {"NETLINK_CRYPTO", NETLINK_CRYPTO},
    {"NETLINK_SMC", NETLINK_SMC},
}};

std::optional<int> netlink_protocol_named(std::string_view name) {
  for (const auto& n : kNetlinkProtocols)
    if (n.name == name) return n.number;
  return std::nullopt;
}

std::optional<int> number(std::string_view text) {
  int v = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

std::optional<SeccompAction> action_named(std::string_view word) {
  if (word == "allow") return SeccompAction::allow;
  if (word == "eperm") return SeccompAction::eperm;
  if (word == "enosys") return SeccompAction::enosys;
  if (word == "eafnosupport") return SeccompAction::eafnosupport;
  if (word == "kill") return SeccompAction::kill;
  return std::nullopt;
}

Unexpected line_error(int lineno, const std::string& what) {
  return fail(ErrorCode::invalid_argument,
              "seccomp policy line " + std::to_string(lineno) + ": " + what);
}

// family=... and protocol=... of one socket line.
Result<SocketRule> parse_socket_conditions(const std::vector<std::string>& conditions, int lineno) {
  SocketRule rule;
  rule.line = lineno;
  bool have_family = false;
  std::string protocol_text;
  for (const auto& c : conditions) {
    const auto eq = c.find('=');
    const std::string key = c.substr(0, eq), value = c.substr(eq + 1);
    if (key == "family" && !have_family) {
      have_family = true;
      if (value == "*") continue;
      rule.family = family_named(value);
      if (!rule.family) rule.family = number(value);
      if (!rule.family || *rule.family >= kSocketFamilySpan)
        return line_error(lineno, "unknown socket family '" + value + "' (AF_* name, or *)");
    } else if (key == "protocol" && protocol_text.empty()) {
      protocol_text = value;
    } else {
      return line_error(lineno,
                        "unexpected '" + c + "' (socket lines take family= and protocol= once)");
    }
  }
  if (!have_family) return line_error(lineno, "a socket line needs family=AF_NAME or family=*");
  if (!protocol_text.empty()) {
    if (!rule.family) return line_error(lineno, "protocol= needs a named family, not family=*");
    rule.protocol =
        *rule.family == AF_NETLINK ? netlink_protocol_named(protocol_text) : std::nullopt;
    if (!rule.protocol) rule.protocol = number(protocol_text);
    if (!rule.protocol)
      return line_error(lineno, "unknown protocol '" + protocol_text + "' for " +
                                    socket_family_name(*rule.family) + " (a number, or NETLINK_*)");
  }
  return rule;
}

// The combinations a filter with one comparison per argument and rule can express: a denied
// family may allow exactly one protocol (arg2 != P); an allowed family may deny protocols.
Status check_socket_rules(const SeccompPolicy& p) {
  for (std::size_t i = 0; i < p.sockets.size(); ++i) {
    const auto& r = p.sockets[i];
    for (std::size_t j = 0; j < i; ++j) {
      const auto& q = p.sockets[j];
      if (q.family == r.family && q.protocol == r.protocol)
        return line_error(r.line, "repeats line " + std::to_string(q.line));
    }
    if (!r.protocol) continue;
    const SeccompAction base = socket_family_action(p, *r.family);
    if (base == SeccompAction::allow && r.action == SeccompAction::allow)
      return line_error(r.line, socket_family_name(*r.family) + " is allowed already");
    if (base != SeccompAction::allow && r.action != SeccompAction::allow)
      return line_error(r.line,
                        socket_family_name(*r.family) +
                            " is denied already; a protocol line may only allow one protocol");
    for (std::size_t j = 0; j < i; ++j) {
      const auto& q = p.sockets[j];
      if (base != SeccompAction::allow && q.family == r.family && q.protocol)
        return line_error(r.line, socket_family_name(*r.family) + " allows a protocol on line " +
                                      std::to_string(q.line) +
                                      "; a denied family may allow only one");
    }
  }
  return ok();
}

}  // namespace

std::string_view default_seccomp_policy() { return kDefaultPolicy; }

SeccompAction socket_family_action(const SeccompPolicy& p, int family) {
  std::optional<SeccompAction> star;
  for (const auto& r : p.sockets) {
    if (r.family == family && !r.protocol) return r.action;
    if (!r.family) star = r.action;
  }
  return star.value_or(SeccompAction::allow);
}

std::string socket_family_name(int family) {
  if (family >= 0 && static_cast<std::size_t>(family) < std::size(kFamilyNames))
    return std::string(kFamilyNames[family]);
  return "family " + std::to_string(family);
}

SeccompAction socket_action(const SeccompPolicy& p, int family, int protocol) {
  for (const auto& r : p.sockets)
    if (r.family == family && r.protocol == protocol) return r.action;
  // A family whose lines name protocols but not the family itself follows `family=*`.
  return socket_family_action(p, family);
}

Result<SeccompPolicy> parse_seccomp_policy(std::string_view text) {
  SeccompPolicy policy;
  std::istringstream in{std::string(text)};
  std::string line;
  int lineno = 0;
  int plain_socket_line = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::istringstream words(line.substr(0, line.find('#')));
    std::string name, word;
    if (!(words >> name)) continue;
    std::vector<std::string> conditions;
    std::optional<std::string> action_word;
    while (words >> word) {
      if (word.find('=') != std::string::npos) {
        conditions.push_back(word);
      } else if (!action_word) {
        action_word = word;
      } else {
        return line_error(lineno, "unexpected '" + word + "' after the action");
      }
    }
    const auto action = action_named(action_word.value_or("eperm"));
    if (!action) return line_error(lineno, "unknown action '" + *action_word + "'");
    if (conditions.empty()) {
      if (*action == SeccompAction::allow)
        return line_error(lineno, "'allow' needs a condition: every call not listed is allowed");
      if (name == "socket") plain_socket_line = lineno;
      policy.syscalls.push_back({name, *action});
      continue;
    }
    if (name != "socket")
      return line_error(
          lineno, "conditions (" + conditions.front() + ") are only supported on socket lines");
    if (!action_word)
      return line_error(lineno, "a socket line needs an action (allow, eafnosupport, ...)");
    IGNITE_TRY_ASSIGN(SocketRule rule, parse_socket_conditions(conditions, lineno));
    rule.action = *action;
    policy.sockets.push_back(rule);
  }
  if (plain_socket_line && !policy.sockets.empty())
    return line_error(plain_socket_line, "a plain socket line would override the family= lines");
  IGNITE_TRY(check_socket_rules(policy));
  return policy;
}

}  // namespace ignite::sandbox::native
