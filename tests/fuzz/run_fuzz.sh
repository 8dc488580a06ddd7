#!/bin/sh
# Builds the libFuzzer targets with clang (a separate build dir, incremental) and runs one of
# them for a bounded time on its seed corpus. Exits 77 (ctest: skipped) with the reason printed
# when clang or its libFuzzer runtime is missing, so the test command stays green on g++-only hosts.
# usage: run_fuzz.sh TARGET SECONDS BUILD_DIR
set -eu
target="$1"
seconds="$2"
build="$3"
here="$(cd "$(dirname "$0")" && pwd)"

cxx=""
for c in clang++ clang++-19 clang++-18 clang++-17 clang++-16 clang++-15 clang++-14; do
  if command -v "$c" >/dev/null 2>&1; then cxx="$c"; break; fi
done
if [ -z "$cxx" ]; then
  echo "skipped: clang is not installed (scripts/install-deps installs clang and libclang-rt-dev)"
  exit 77
fi
resource="$("$cxx" -print-resource-dir)"
found=""
for lib in "$resource"/lib/linux/libclang_rt.fuzzer-x86_64.a "$resource"/lib/*/libclang_rt.fuzzer.a; do
  if [ -f "$lib" ]; then found="$lib"; fi
done
if [ -z "$found" ]; then
  echo "skipped: $cxx has no libFuzzer runtime under $resource (install libclang-rt-dev)"
  exit 77
fi

# One build at a time: the two fuzz tests share it.
mkdir -p "$build"
exec 9>"$build/.lock"
flock 9
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$here" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=None >/dev/null
fi
cmake --build "$build" -j "$(nproc)" --target "$target" >"$build/build-$target.log" 2>&1 || {
  cat "$build/build-$target.log"
  exit 1
}
flock -u 9

corpus="$build/corpus-$target"
mkdir -p "$corpus"
seeds="$here/corpus/${target#fuzz_}"
cd "$build"
echo "fuzzing $target for ${seconds}s with $cxx"
# -timeout: one input taking over 10 s is a hang; a crash leaves crash-* here and fails the test.
exec "./$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  "$corpus" "$seeds"
