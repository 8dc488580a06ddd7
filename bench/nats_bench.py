"""NATS workers in `make bench`: jobs/s and publish-to-`done` p50/p99 with 1 and 2 workers.

A real nats-server (JetStream, temp store, free port) per worker count; the workers are
`ignite worker` processes; the client is tests/nats_client/ignis_client.mjs (the npm `nats`
package), which publishes every job with a plain NATS publish at once and times each from its
publish to its final status. Numbers are end to end: queueing behind the workers' slots included.
"""
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "tests" / "nats_client"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs, q):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 1)


def client(url, count, prefix):
    out = subprocess.run(["node", "ignis_client.mjs", "--servers", url, "--count", str(count), "--code", "print(1)",
                          "--id-prefix", prefix, "--timeout-ms", "300000"],
                         cwd=CLIENT, capture_output=True, text=True, timeout=360)
    return json.loads(out.stdout)


def nats_phase(ignite, jobs=300, log=print):
    if not shutil.which("nats-server"):
        return {"skipped": "nats-server is not installed"}
    if not (CLIENT / "node_modules" / "nats").exists():
        return {"skipped": "the npm nats client is not installed (scripts/install-deps)"}
    rows = []
    for workers in (1, 2):
        with tempfile.TemporaryDirectory(prefix="ignite-bench-nats-") as tmp:
            port = free_port()
            url = f"nats://127.0.0.1:{port}"
            server = subprocess.Popen(["nats-server", "-js", "-sd", f"{tmp}/store", "-a", "127.0.0.1", "-p", str(port)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs = []
            try:
                time.sleep(0.5)
                for i in range(workers):
                    out = open(f"{tmp}/worker{i}.out", "w")
                    procs.append(subprocess.Popen([ignite, "worker", "--nats", url, "--concurrency", "2",
                                                   "--pool", "python=2..8"], stdout=out, stderr=subprocess.DEVNULL))
                deadline = time.time() + 60
                while time.time() < deadline and not all(
                        "worker ready" in Path(f"{tmp}/worker{i}.out").read_text() for i in range(workers)):
                    time.sleep(0.1)
                client(url, 30, f"warm{workers}-")  # pools filled, caches hot
                # Unloaded: one job at a time, publish → done.
                alone = [client(url, 1, f"one{workers}-{i}-")["jobs"][0]["latency_ms"] for i in range(20)]
                doc = client(url, jobs, f"bench{workers}-")
                lat = [j["latency_ms"] for j in doc["jobs"] if j.get("final", {}).get("status") == "done"]
                rows.append({"workers": workers, "jobs": jobs, "done": len(lat),
                             "jobsPerSecond": round(len(lat) / (doc["elapsed_ms"] / 1000), 1),
                             "p50Ms": pct(lat, 0.5) if lat else None, "p99Ms": pct(lat, 0.99) if lat else None,
                             "aloneP50Ms": pct(alone, 0.5), "aloneP99Ms": pct(alone, 0.99)})
                log(f"nats: {workers} worker(s): {rows[-1]}")
            finally:
                for p in procs:
                    p.terminate()
                for p in procs:
                    p.wait(timeout=60)
                server.terminate()
                server.wait(timeout=30)
    return {"rows": rows}


def nats_markdown(section):
    if "skipped" in section:
        return ["", f"**NATS workers: skipped** — {section['skipped']}"]
    L = ["", "## NATS workers (python `print(1)`; each worker --concurrency 2, all on the same 2 cores)", "",
         "Burst: all jobs published at once with plain NATS publish; latency = publish → `done` on the client, "
         "queueing behind the workers' slots included. Alone: 20 jobs one at a time (publish → `done`).", "",
         "| workers | jobs | done | jobs/s | burst p50 ms | burst p99 ms | alone p50 ms | alone p99 ms |",
         "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in section["rows"]:
        L.append(f"| {r['workers']} | {r['jobs']} | {r['done']} | {r['jobsPerSecond']} | {r['p50Ms']} | {r['p99Ms']} | "
                 f"{r['aloneP50Ms']} | {r['aloneP99Ms']} |")
    return L
