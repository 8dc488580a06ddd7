#include "sys/shared_library.hpp"

#include <dlfcn.h>

#include <string>

namespace ignite::sys {

Result<void*> open_library(std::initializer_list<const char*> sonames, std::string_view package) {
  std::string tried;
  std::string why;
  for (const char* name : sonames) {
    if (void* handle = ::dlopen(name, RTLD_NOW | RTLD_LOCAL)) return handle;
    const char* text = ::dlerror();
    why = text != nullptr ? text : "unknown dlopen error";
    tried += tried.empty() ? name : std::string(", ") + name;
  }
  return fail(ErrorCode::unsupported, "cannot load " + tried + " (" + why + "): install " +
                                          std::string(package));
}

Result<void*> library_symbol(void* library, const char* name, std::string_view package) {
  ::dlerror();
  void* address = ::dlsym(library, name);
  if (address == nullptr)
    return fail(ErrorCode::unsupported, std::string(name) + " is missing from the loaded library: install " +
                                            std::string(package) + " (a version with it)");
  return address;
}

}  // namespace ignite::sys
