#include "server/browser_guard.hpp"

#include <arpa/inet.h>

namespace ignite::server {

std::string_view host_of(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  return authority.substr(0, authority.find(':'));
}

bool is_loopback_name(std::string_view host) {
  if (host == "localhost" || host == "[::1]" || host == "::1") return true;
  in_addr v4{};
  const std::string text(host);
  return ::inet_pton(AF_INET, text.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

std::optional<std::string> browser_refusal(std::string_view listen_host, std::string_view host, std::string_view origin) {
  // Security: a rebinding page's requests carry its own name as Host; on a loopback listener
  // nothing legitimate does (a reverse proxy on this host sends the upstream address).
  if (is_loopback_name(host_of(listen_host)) && !host.empty() && !is_loopback_name(host_of(host)))
    return "Host '" + std::string(host) + "' does not name this server, which listens on loopback only";
  if (origin.empty()) return std::nullopt;
  const auto scheme = origin.find("://");
  const std::string_view authority = scheme == std::string_view::npos ? std::string_view{} : origin.substr(scheme + 3);
  if (!authority.empty() && (authority == host || is_loopback_name(host_of(authority)))) return std::nullopt;
  return "cross-origin requests are refused (Origin " + std::string(origin.substr(0, 200)) + ")";
}

}  // namespace ignite::server
