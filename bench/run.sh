#!/usr/bin/env bash
# `make bench`: start-up latency (p50/p99, ratio to the bare runtime) and throughput (1/8/32
# clients) of hello-world and the seed data-processor per runtime, bare · bwrap · docker ·
# `ignite exec` · `ignite serve` · `ignite serve --pool`, interleaved in one run (bench/bench.py);
# then NATS workers (bench/nats_bench.py): jobs/s and publish-to-done p50/p99 with 1 and 2 workers.
# Writes bench/results/latest.md and latest.json. About 8 minutes on 2 cores; BENCH_TIMEOUT
# (seconds, default 1200) bounds it. Knobs (environment), with their defaults:
#   BENCH_RUNS=30 BENCH_DOCKER_RUNS=15 BENCH_WARMUP=2 BENCH_TP_SECONDS=3 BENCH_TP_REPEATS=3
#   BENCH_SETTLE=1 BENCH_CLIENTS=1,8,32
#   BENCH_RUNTIMES=python,node,bun,deno,quickjs,go BENCH_MODES=bare,bwrap,docker,exec,serve,pool,nats
#   BENCH_POOL=python=2..16,node=2..16,bun=2..16,deno=2..16 BENCH_TP_RUNTIMES=python,node
#   BENCH_OUT=bench/results IGNITE=build/dev/src/cli/ignite
# Needs bwrap and strace (scripts/install-deps), docker.io for the docker row (install-deps
# --bench; without a daemon the row is skipped with the reason). Numbers on a shared machine
# are noisy: compare rows within one run, not across runs.
set -euo pipefail
cd "$(dirname "$0")/.."
exec timeout --foreground "${BENCH_TIMEOUT:-1200}" python3 bench/bench.py
