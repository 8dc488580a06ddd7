// Routes: a method and a path pattern ("/services/:name/execute") mapped to a handler, and
// whether that handler may block (it then runs on the handler pool, not on an I/O thread).
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "server/http_types.hpp"

namespace ignite::server {

using Handler = std::function<void(const Request&, Response&)>;

// Where a handler runs. `quick` handlers (no disk, no waiting, microseconds) run on the I/O
// thread that read the request; `blocking` ones (executions, preflight, directory walks) on the
// handler pool, so that they never delay another connection (a /health probe least of all).
enum class Dispatch { quick, blocking };

class Router {
 public:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // literal segments, or ":name" for a capture
    Dispatch dispatch = Dispatch::blocking;
    Handler handler;
  };

  // `pattern` is "/literal/:capture/...": a capture matches one whole non-empty segment.
  void add(std::string method, std::string_view pattern, Dispatch dispatch, Handler handler);

  struct Match {
    const Route* route = nullptr;     // set when found
    std::vector<std::string> params;  // the captures, percent-decoded
    int status = 0;                   // when not found: 404 (no such path), 405 (no such method
                                      // on this path), 400 (a malformed %-escape)
    std::string allow;                // 405: the methods this path has, for the Allow header
  };
  // Matches a path as sent (percent-encoded). Segments are decoded one by one after splitting,
  // so "%2F" inside a capture never becomes a separator.
  Match match(std::string_view method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace ignite::server
