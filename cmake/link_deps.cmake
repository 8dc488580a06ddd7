# How the libraries every `ignite` start needs are linked: the ignite_dep_* interface targets.
#
# Why static: a CLI run spent most of its start-up in the dynamic loader, binding libstdc++,
# spdlog, fmt, yaml-cpp, libcrypto and libseccomp symbol by symbol (perf: 43 % of
# `ignite --version`, ~1 ms, before main). Linked into the binary, those symbols are bound at
# link time and the libraries are neither searched nor mapped. libcurl and cnats stay dynamic:
# they are dlopen()ed on first use (sys/shared_library), and they are C, so the libstdc++ inside
# `ignite` never meets a second one. Sanitizer builds keep everything shared (the runtimes
# want to interpose the allocator). libcrypto was linked statically too, until SHA-256 became
# ours (sys/sha256.hpp says why).
option(IGNITE_STATIC_DEPS "Link libstdc++, spdlog, fmt, yaml-cpp and libseccomp into ignite" ON)
if(IGNITE_SANITIZE)
  set(IGNITE_STATIC_DEPS OFF)
endif()

add_library(ignite_dep_log INTERFACE)
add_library(ignite_dep_yaml INTERFACE)
add_library(ignite_dep_seccomp INTERFACE)

# A static archive of a Debian -dev package, as an imported target with the shared one's headers.
function(ignite_static_archive target archive_name headers_from)
  find_library(_path NAMES ${archive_name} NO_CACHE REQUIRED)
  add_library(${target} STATIC IMPORTED)
  set_target_properties(${target} PROPERTIES IMPORTED_LOCATION ${_path})
  if(headers_from)
    get_target_property(_inc ${headers_from} INTERFACE_INCLUDE_DIRECTORIES)
    if(_inc)
      set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_inc}")
    endif()
  endif()
endfunction()

if(IGNITE_STATIC_DEPS)
  find_package(fmt REQUIRED)
  # Debian ships spdlog and fmt as shared libraries and as headers, with no static archive: their
  # compiled parts are built here, once (log_impl.cpp), and every other TU sees only their
  # declarations. (The header-only form put them in each of the ~22 TUs that log: ~9 s of
  # compile CPU each.)
  add_library(ignite_log_impl STATIC ${CMAKE_CURRENT_LIST_DIR}/log_impl.cpp)
  target_compile_definitions(ignite_log_impl PUBLIC SPDLOG_COMPILED_LIB SPDLOG_FMT_EXTERNAL)
  target_include_directories(ignite_log_impl PUBLIC
    $<TARGET_PROPERTY:spdlog::spdlog_header_only,INTERFACE_INCLUDE_DIRECTORIES>
    $<TARGET_PROPERTY:fmt::fmt-header-only,INTERFACE_INCLUDE_DIRECTORIES>)
  target_link_libraries(ignite_log_impl PUBLIC Threads::Threads)
  target_link_libraries(ignite_dep_log INTERFACE ignite_log_impl)
  ignite_static_archive(ignite_yaml_a libyaml-cpp.a yaml-cpp)
  target_link_libraries(ignite_dep_yaml INTERFACE ignite_yaml_a)
  ignite_static_archive(ignite_seccomp_a libseccomp.a "")
  target_include_directories(ignite_dep_seccomp INTERFACE ${SECCOMP_INCLUDE_DIRS})
  target_link_libraries(ignite_dep_seccomp INTERFACE ignite_seccomp_a)
else()
  target_link_libraries(ignite_dep_log INTERFACE spdlog::spdlog)
  target_link_libraries(ignite_dep_yaml INTERFACE yaml-cpp)
  target_link_libraries(ignite_dep_seccomp INTERFACE PkgConfig::SECCOMP)
endif()

# The shipped binary carries its own libstdc++ and libgcc (see above); test binaries, which
# also link GoogleTest, keep the shared ones.
function(ignite_static_runtime target)
  if(IGNITE_STATIC_DEPS)
    target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc)
    # The binary is position-independent (ASLR), so the loader relocates ~24k pointers at every
    # start; packed relative relocations (DT_RELR, glibc >= 2.36) make that table 50x smaller.
    include(CheckLinkerFlag)
    check_linker_flag(CXX "-Wl,-z,pack-relative-relocs" ignite_has_relr)
    if(ignite_has_relr)
      target_link_options(${target} PRIVATE "-Wl,-z,pack-relative-relocs")
    endif()
  endif()
endfunction()
