# Project-wide warning and sanitizer flags, applied through the `ignite_flags` interface target.
add_library(ignite_flags INTERFACE)
target_compile_options(ignite_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
target_include_directories(ignite_flags INTERFACE ${PROJECT_SOURCE_DIR}/src)
target_compile_definitions(ignite_flags INTERFACE IGNITE_VERSION="${PROJECT_VERSION}")
if(IGNITE_WERROR)
  target_compile_options(ignite_flags INTERFACE -Werror)
endif()
if(IGNITE_SANITIZE)
  target_compile_options(ignite_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                                -fno-sanitize-recover=undefined)
  target_link_options(ignite_flags INTERFACE -fsanitize=address,undefined)
endif()
