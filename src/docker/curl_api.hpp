// The libcurl functions the Docker Engine client calls, loaded on first use (sys/shared_library:
// a CLI run that never talks to dockerd does not pay for libcurl's dependencies).
#pragma once
// The calls go through function pointers; curl.h's type-checking macros would rewrite them.
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "core/result.hpp"

#define IGNITE_CURL_FUNCTIONS(X)                                                           \
  X(curl_global_init) X(curl_easy_init) X(curl_easy_cleanup) X(curl_easy_setopt)            \
  X(curl_easy_getinfo) X(curl_easy_perform) X(curl_easy_strerror) X(curl_slist_append)      \
  X(curl_slist_free_all)

namespace ignite::docker {

struct CurlApi {
#define IGNITE_CURL_MEMBER(f) decltype(&::f) f = nullptr;
  IGNITE_CURL_FUNCTIONS(IGNITE_CURL_MEMBER)
#undef IGNITE_CURL_MEMBER
};

// libcurl, loaded once per process (thread-safe); the error says which package to install.
Result<const CurlApi*> curl_api();

}  // namespace ignite::docker
