#include "docker/curl_api.hpp"

#include "sys/shared_library.hpp"

namespace ignite::docker {

Result<const CurlApi*> curl_api() {
  static const Result<CurlApi> api = []() -> Result<CurlApi> {
    constexpr std::string_view kPackage = "libcurl4 (the docker backend talks to dockerd with it)";
    IGNITE_TRY_ASSIGN(void* library, sys::open_library({"libcurl.so.4"}, kPackage));
    CurlApi table;
#define IGNITE_CURL_BIND(f) IGNITE_TRY(sys::bind_symbol(library, table.f, #f, kPackage));
    IGNITE_CURL_FUNCTIONS(IGNITE_CURL_BIND)
#undef IGNITE_CURL_BIND
    return table;
  }();
  if (!api) return fail(api.error());
  return &api.value();
}

}  // namespace ignite::docker
