#!/usr/bin/env bash
# Start-up cost of one sandboxed run, as ratios against baselines measured in the same run:
# the bare process, bubblewrap (namespaces + binds, no cgroups/seccomp), and `ignite run`.
# Needs: hyperfine, bwrap (apt-get install hyperfine bubblewrap), a built ignite (make build).
# Not part of `make test`: numbers on these shared machines are noisy; read medians and p99.
set -euo pipefail
cd "$(dirname "$0")/.."
IGNITE=${IGNITE:-build/dev/src/cli/ignite}
PROBE=${PROBE:-build/dev/tests/probe}
RUNS=${RUNS:-200}
OUT=${OUT:-bench/results}
mkdir -p "$OUT"
svc=$(mktemp -d)
chmod 755 "$svc"  # the sandbox user must be able to read the service
trap 'rm -rf "$svc"' EXIT
printf 'service:\n  name: bench\n  runtime: python\n  entry: main.py\n  memoryMb: 64\n' >"$svc/service.yaml"
echo 'pass' >"$svc/main.py"

hyperfine -N --warmup 10 --runs "$RUNS" --export-json "$OUT/startup.json" \
  -n bare-probe "$PROBE exit 0" \
  -n bwrap-probe "bwrap --unshare-all --ro-bind $PROBE /probe --proc /proc --dev /dev --tmpfs /tmp /probe exit 0" \
  -n bare-python "/usr/bin/python3 -E -s $svc/main.py" \
  -n ignite-python "$IGNITE run $svc --skip-preflight"

python3 - "$OUT/startup.json" <<'PY'
import json, statistics, sys
res = {r["command"]: sorted(r["times"]) for r in json.load(open(sys.argv[1]))["results"]}
def p(ts, q): return ts[min(len(ts) - 1, int(q * len(ts)))] * 1000
base = statistics.median(res["bare-python"])
print(f"{'command':16} {'median ms':>10} {'p99 ms':>8} {'x bare python':>14}")
for name, ts in res.items():
    print(f"{name:16} {statistics.median(ts)*1000:10.2f} {p(ts, .99):8.2f} {statistics.median(ts)/base:14.2f}")
PY
