# The README's commands. `make demo`: install, build, run the seed example.
# `make test`: install, build, run every test (unit + integration + e2e + security, and the
# cgroup v2 tier in a QEMU guest), then the unit tests again under AddressSanitizer/UBSan.
.PHONY: all deps build build-cli demo dist test test-dev test-asan bench clean

JOBS ?= $(shell nproc)
IGNITE := build/dev/src/cli/ignite

all: build

deps:
	./scripts/install-deps

# Both presets (CMakePresets.json) keep line tables only (-g1): enough for backtraces, gdb's
# lines and the sanitizers' reports, and much less compile time than full -g (measured: the
# clean dev build 22 -> 17 min, the ASan one 13 -> 11; native_backend.cpp 23.3 -> 14.8 s of
# CPU). Full debug info: configure with
# -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g -DNDEBUG".
build:
	cmake --preset dev -DBUILD_TESTING=ON >/dev/null
	cmake --build --preset dev -j $(JOBS)

# Only what the demo runs: the CLI and the helpers beside it (not the test binaries).
build-cli:
	cmake --preset dev -DBUILD_TESTING=ON >/dev/null
	cmake --build --preset dev -j $(JOBS) --target ignite

demo: deps build-cli
	$(IGNITE) run examples/data-processor --input '{"data":[1,2,3,4,5],"operation":"sum"}'

# The release artefact: dist/ignite-<version>-linux-<arch>.tar.gz (+ .sha256); scripts/install.sh
# installs it (docs/deploy.md).
dist: build-cli
	./scripts/make-dist

# `make test`: every ctest of build/dev (one dockerd serves every docker test of a run:
# scripts/test-dockerd; the guest kernel of the cgroup v2 tier, ctest -L cgroup2, is built once
# per machine, ~5 min), then the unit tests under ASan/UBSan; both run even when the first
# fails (scripts/run-tests). `make test-dev` and `make test-asan` run one stage each.
test: deps build
	./scripts/run-tests all

test-dev: build
	./scripts/run-tests dev

test-asan:
	./scripts/run-tests asan

# Start-up latency and throughput against baselines measured in the same run (bare process,
# bubblewrap, docker); not a test, not part of `make test`. Knobs: bench/run.sh.
bench: build
	./scripts/install-deps --bench
	bench/run.sh

clean:
	rm -rf build dist
