// What a web browser may ask of the server. Two attacks come through a user's browser, not
// through a client of theirs:
//   - cross-site requests: any page may POST to http://127.0.0.1:3000/v1/execute with a
//     text/plain body (no CORS preflight), and the code runs even though the page cannot read
//     the answer;
//   - DNS rebinding: a page at attacker.example re-resolves its name to 127.0.0.1, and then its
//     requests are same-origin to the server, answers included.
// So: a request that carries an Origin (browsers send one with every POST) must come from this
// server's own origin or a loopback one; and a server listening on loopback only answers
// requests whose Host names loopback (localhost, 127.x.x.x, [::1]) — what a rebinding page sends
// is its own name. Clients without Origin (curl, SDKs, agents) are unaffected by the first.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace ignite::server {

// The host part of "host", "host:port", "[v6]" or "[v6]:port".
std::string_view host_of(std::string_view authority);
// localhost, 127.0.0.0/8 or [::1].
bool is_loopback_name(std::string_view host);

// Why the request is refused (a message for a 403), or nullopt when it may proceed.
// `listen_host` is the server's --host; `host` and `origin` the request's headers ("" = none).
std::optional<std::string> browser_refusal(std::string_view listen_host, std::string_view host, std::string_view origin);

}  // namespace ignite::server
