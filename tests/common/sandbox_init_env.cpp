// The test binaries do not sit next to `ignite`, where the native backend looks for
// ignite-sandbox-init: point it at the one this build made (before any test runs; an
// IGNITE_SANDBOX_INIT already set, e.g. by a test script, wins).
#include <cstdlib>

namespace {
[[maybe_unused]] const int kSandboxInitSet = ::setenv("IGNITE_SANDBOX_INIT", IGNITE_SANDBOX_INIT, 0);
}  // namespace
