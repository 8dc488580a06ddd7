# The README's commands. `make demo`: install, build, run the seed example.
# `make test`: install, build, run every test (unit + integration + e2e + security, and the
# cgroup v2 tier in a QEMU guest), then the unit tests again under AddressSanitizer/UBSan.
.PHONY: all deps build build-cli demo dist test test-dev test-asan bench clean

JOBS ?= $(shell nproc)
IGNITE := build/dev/src/cli/ignite

all: build

deps:
	./scripts/install-deps

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

test: deps test-dev test-asan

# One dockerd for every docker test of the run (scripts/test-dockerd), stopped whatever ctest says.
# The guest kernel of the cgroup v2 tier (ctest -L cgroup2) is built once per machine (~5 min).
test-dev: build
	./scripts/guest-kernel >/dev/null
	./scripts/test-dockerd start
	ctest --preset dev -j 1 --timeout 300; rc=$$?; ./scripts/test-dockerd stop; \
	  [ $$rc = 0 ] || ./scripts/ctest-failures build/dev; exit $$rc

test-asan:
	cmake --preset asan -DBUILD_TESTING=ON >/dev/null
	cmake --build --preset asan -j $(JOBS) --target ignite_unit_tests
	ctest --preset asan --timeout 300 || { rc=$$?; ./scripts/ctest-failures build/asan; exit $$rc; }

# Start-up latency and throughput against baselines measured in the same run (bare process,
# bubblewrap, docker); not a test, not part of `make test`. Knobs: bench/run.sh.
bench: build
	./scripts/install-deps --bench
	bench/run.sh

clean:
	rm -rf build dist
