#include "queue/nats_api.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "sys/shared_library.hpp"

namespace ignite::queue {

namespace {
std::atomic<bool> g_loaded{false};
}

Result<const NatsApi*> load_nats() {
  static const Result<NatsApi> api = []() -> Result<NatsApi> {
    constexpr std::string_view kPackage = "libnats3.4 (cnats, the NATS client of `ignite worker` and `serve --nats`)";
    IGNITE_TRY_ASSIGN(void* library, sys::open_library({"libnats.so.3.4", "libnats.so"}, kPackage));
    NatsApi table;
#define IGNITE_NATS_BIND(f) IGNITE_TRY(sys::bind_symbol(library, table.f, #f, kPackage));
    IGNITE_NATS_FUNCTIONS(IGNITE_NATS_BIND)
#undef IGNITE_NATS_BIND
    g_loaded = true;
    return table;
  }();
  if (!api) return fail(api.error());
  return &api.value();
}

const NatsApi& nats() {
  auto api = load_nats();
  if (!api) {
    std::fprintf(stderr, "ignite: %s\n", api.error().message.c_str());
    std::abort();
  }
  return **api;
}

void close_nats(std::chrono::milliseconds timeout) {
  if (!g_loaded) return;  // a command that never talked to NATS does not load cnats to close it
  // cnats waits forever for 0 or less: never here.
  const auto ms = std::max<std::int64_t>(1, timeout.count());
  // Not opened (nothing connected) or already closed: nothing to wait for.
  if (natsStatus s = nats().nats_CloseAndWait(ms); s != NATS_OK && s != NATS_ILLEGAL_STATE && s != NATS_NOT_INITIALIZED)
    std::fprintf(stderr, "ignite: NATS client threads still running at exit: %s\n", nats().natsStatus_GetText(s));
}

}  // namespace ignite::queue
