#include "server/router.hpp"

namespace ignite::server {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path[0] != '/') return out;
  path.remove_prefix(1);
  for (;;) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

void Router::add(std::string method, std::string_view pattern, Dispatch dispatch, Handler handler) {
  Route route{std::move(method), {}, dispatch, std::move(handler)};
  for (auto segment : split_path(pattern)) route.segments.emplace_back(segment);
  routes_.push_back(std::move(route));
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match out;
  out.status = 404;
  const auto raw = split_path(path);
  if (raw.empty()) return out;  // not origin-form ("*", "http://…")
  std::vector<std::string> segments;
  segments.reserve(raw.size());
  for (auto s : raw) {
    auto decoded = percent_decode(s);
    if (!decoded) {
      out.status = 400;
      return out;
    }
    segments.push_back(std::move(*decoded));
  }
  for (const Route& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    std::vector<std::string> params;
    bool same = true;
    for (std::size_t i = 0; same && i < segments.size(); ++i) {
      const std::string& want = route.segments[i];
      if (!want.empty() && want[0] == ':') {
        same = !segments[i].empty();
        if (same) params.push_back(segments[i]);
      } else {
        same = want == segments[i];
      }
    }
    if (!same) continue;
    if (route.method != method) {
      out.status = 405;
      if (out.allow.find(route.method) == std::string::npos)
        out.allow += (out.allow.empty() ? "" : ", ") + route.method;
      continue;
    }
    out.route = &route;
    out.params = std::move(params);
    out.status = 0;
    out.allow.clear();
    return out;
  }
  return out;
}

}  // namespace ignite::server
