// Shared libraries Ignite loads on first use (dlopen) instead of linking: libcurl (the Docker
// Engine client) and cnats (the NATS transport).
//
// Why: linked normally, those two pull ~30 more libraries into every start of `ignite` (TLS,
// Kerberos, LDAP, SASL, …); mapping and relocating them cost ~5 ms of page faults and symbol
// lookups on this kind of machine, which every `ignite exec` paid before its sandbox existed
// although only the docker backend and the NATS transport call them (measured: docs/performance.md).
#pragma once
#include <initializer_list>
#include <string_view>

#include "core/result.hpp"

namespace ignite::sys {

// Opens the first of `sonames` that loads (RTLD_NOW: a missing symbol fails here, not at a
// call). The handle is never closed: the library's functions may be called until exit.
// The error names `package` so that the user knows what to install.
Result<void*> open_library(std::initializer_list<const char*> sonames, std::string_view package);

// The address of `name` in `library`; an error (naming `package`) when it is missing.
Result<void*> library_symbol(void* library, const char* name, std::string_view package);

// Fills every member of an API table of function pointers. Each table lists its functions
// once, in an X-macro; `Table::load` passes them to this one by one.
template <class Fn>
Result<void> bind_symbol(void* library, Fn& slot, const char* name, std::string_view package) {
  IGNITE_TRY_ASSIGN(void* address, library_symbol(library, name, package));
  slot = reinterpret_cast<Fn>(address);
  return {};
}

}  // namespace ignite::sys
