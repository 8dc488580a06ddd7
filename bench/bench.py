#!/usr/bin/env python3
"""Start-up latency and throughput of one run, per runtime and per way of running it.

Rows (each against the bare process of the same runtime, measured in the same run):
  bare    the runtime binary started directly on the host
  bwrap   the same under `bwrap --unshare-all` (namespaces + read-only binds, no cgroups/seccomp)
  docker  the same under `docker run --rm --network none`, from a local FROM-scratch image
  exec    `ignite exec` (the CLI, one cold sandbox per run)
  serve   POST /v1/execute on `ignite serve --pool none` (every run cold)
  pool    POST /v1/execute on `ignite serve --pool ...`
The latency phase interleaves every row: each round runs every command once, in a fresh
shuffled order, so load that drifts during the run hits all rows alike. Then throughput at
1/8/32 concurrent clients for bare, serve and pool. Then a breakdown of where the time goes.

Python 3 standard library only. Knobs (environment): see ENV below; bench/run.sh is the wrapper.
Writes $BENCH_OUT/latest.json and latest.md.
"""
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from nats_bench import nats_markdown, nats_phase

ROOT = Path(__file__).resolve().parent.parent
ENV = {
    "BENCH_RUNS": "30",          # measured rounds of the latency phase
    "BENCH_DOCKER_RUNS": "15",   # docker joins only the first N rounds (~0.4 s a run)
    "BENCH_WARMUP": "2",         # unmeasured runs of every command first
    "BENCH_RUNTIMES": "python,node,bun,deno,quickjs,go",
    # dexec / dpool: Ignite's docker backend, cold (`ignite exec --isolation docker`) and warm
    # (`ignite serve --isolation docker` with pools), on the same dockerd as the docker rows.
    # vexec / vserve: the microvm backend, booted per run (`ignite exec --isolation microvm`) and
    # restored from a template (`ignite serve --isolation microvm`), and vpool: warm VMs (the
    # runtime started ahead in the guest; `ignite serve --isolation microvm --pool`). TCG here,
    # so only BENCH_VM_RUNTIMES' hello-world, in BENCH_VM_RUNS rounds of their own after the
    # other rows' (1-2 s a run; latency_phase says why).
    "BENCH_MODES": "bare,bwrap,docker,exec,serve,pool,dexec,dpool,vexec,vserve,vpool,nats",
    "BENCH_VM_RUNTIMES": "python",
    "BENCH_VM_RUNS": "10",
    "BENCH_VM_POOL": "python=2..2",
    "BENCH_POOL": "python=2..16,node=2..16,bun=2..16,deno=2..16",
    "BENCH_TP_RUNTIMES": "python,node",  # hello-world throughput
    "BENCH_CLIENTS": "1,8,32",
    "BENCH_TP_SECONDS": "3",     # per throughput cell
    "BENCH_TP_REPEATS": "3",     # cells per (runtime, mode, clients), interleaved; the median is reported
    # 1: before each measured command or cell, wait (up to 2 s) until nothing else runs (settle)
    "BENCH_SETTLE": "1",
    "BENCH_SEED": "1",
    "BENCH_OUT": str(ROOT / "bench/results"),
    "IGNITE": str(ROOT / "build/dev/src/cli/ignite"),
}
CFG = {k: os.environ.get(k, v) for k, v in ENV.items()}
RUNS, DOCKER_RUNS, WARMUP, VM_RUNS = (int(CFG[k]) for k in ("BENCH_RUNS", "BENCH_DOCKER_RUNS", "BENCH_WARMUP",
                                                             "BENCH_VM_RUNS"))
VM_RTS = set(CFG["BENCH_VM_RUNTIMES"].split(","))
IGNITE = CFG["IGNITE"]
PROGS = ROOT / "bench/programs"
STORE = Path(os.environ.get("IGNITE_RUNTIME_STORE", Path.home() / ".local/share/ignite/runtimes"))
INPUT = {"data": [1, 2, 3, 4, 5], "operation": "sum"}
EXPECT = {"hello": "hello world", "dp": '"result":15'}
IMAGE = "ignite-bench:latest"
DOCKER_SOCK = "/run/ignite-bench-docker.sock"


def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)


def store_bin(name, rel):
    found = sorted(STORE.glob(f"{name}/*/{rel}"))
    return str(found[-1]) if found else None


# ---- runtimes and programs ----------------------------------------------------------------
# argv/env mirror runtimes/<name>.json, so every row starts the runtime the way Ignite does.
RUNTIME_BINS = {"python": ("/usr/bin/python3",)}  # where each runtime's execve points, filled below


def python_venv(work):
    """<work>/pyvenv/bin/python3: the system's python3 (a link to it) in a venv without the
    system's site-packages. Inside bwrap and docker the same path is /bench/pyvenv/... and
    pyvenv.cfg's `home` points at /usr/bin, where both have the interpreter."""
    venv = work / "pyvenv"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    link = venv / "bin/python3"
    if not link.is_symlink():
        link.symlink_to("/usr/bin/python3")
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\ninclude-system-site-packages = false\n")
    return str(link)


def runtimes(work):
    qjs = store_bin("quickjs", "bin/qjs")
    rts = {
        # The baselines start python as Ignite does (-E -s, `site` on) over the standard library
        # only: through a venv of the system's interpreter (python_venv), whose site-packages is
        # empty. The system's own site-packages hold Debian's numpy/pandas/matplotlib (the
        # datascience profile's), whose .pth files add ~10 ms to a bare start that Ignite's
        # python, which sees only the standard library, never pays; `-S` (no `site` at all),
        # used before, skips ~2 ms of work that Ignite's python does.
        "python": dict(bin=python_venv(work), args=["-E", "-s"],
                       env={"PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"},
                       files={"hello": "hello.py", "dp": "data_processor.py"}),
        "node": dict(bin=shutil.which("node") and os.path.realpath(shutil.which("node")), args=[],
                     env={"NO_COLOR": "1"}, files={"hello": "hello.js", "dp": "data_processor.js"}),
        "bun": dict(bin=store_bin("bun", "bin/bun"), args=[],
                    env={"BUN_RUNTIME_TRANSPILER_CACHE_PATH": "0", "BUN_INSTALL_CACHE_DIR": "/tmp/.bun",
                         "NO_COLOR": "1"}, files={"hello": "hello.js", "dp": "index.ts"}),
        # Bare deno keeps its DENO_DIR in the host's /tmp between runs (a warm cache, as a user
        # would have); bwrap, docker and Ignite start with an empty /tmp.
        "deno": dict(bin=store_bin("deno", "bin/deno"),
                     args=["run", "--allow-env", "--allow-read", "--no-prompt", "--quiet"],
                     env={"DENO_DIR": "/tmp/.deno", "DENO_NO_UPDATE_CHECK": "1", "NO_COLOR": "1"},
                     files={"hello": "hello.js", "dp": "index.ts"}),
        "quickjs": dict(bin=qjs, args=["--std", "-m", qjs and str(Path(qjs).parent.parent / "bootstrap.mjs")],
                        env={}, files={"hello": "hello.js", "dp": "data_processor.js"}),
        "go": dict(bin=None, args=[], env={}, files={"hello": "hello.go"}),
    }
    if shutil.which("go"):  # bare rows run the binary; Ignite compiles it (cached) itself
        out = work / "hello-go"
        r = subprocess.run(["go", "build", "-o", str(out), str(work / "hello.go")], capture_output=True,
                           env={**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}, cwd=work)
        if r.returncode == 0:
            rts["go"]["bin"] = str(out)
    rts = {k: v for k, v in rts.items() if k in CFG["BENCH_RUNTIMES"].split(",") and v["bin"]}
    # The paths a run's runtime execve may name: on the host, and where bwrap and docker see it.
    RUNTIME_BINS.update({k: (v["bin"], v["bin"].replace(str(work), "/bench")) for k, v in rts.items()})
    return rts


def stage_programs(work):
    for f in PROGS.iterdir():
        shutil.copy(f, work / f.name)
    shutil.copy(ROOT / "examples/data-processor/index.ts", work / "index.ts")
    for f in work.iterdir():
        f.chmod(0o755)
    work.chmod(0o755)


# ---- one run ------------------------------------------------------------------------------
class Cmd:
    """One row of one workload. run() -> (seconds, metrics of the result document or {})."""

    def __init__(self, rt, prog, mode):
        self.rt, self.prog, self.mode = rt, prog, mode
        self.times, self.details, self.error = [], [], None

    @property
    def key(self):
        return f"{self.rt}/{self.prog}/{self.mode}"


class ProcCmd(Cmd):
    def __init__(self, rt, prog, mode, argv, env, parse_json=False):
        super().__init__(rt, prog, mode)
        self.argv, self.env, self.parse_json = argv, env, parse_json

    def run(self):
        t0 = time.perf_counter()
        p = subprocess.run(self.argv, env=self.env, stdin=subprocess.DEVNULL, capture_output=True)
        dt = time.perf_counter() - t0
        out, detail = p.stdout.decode(errors="replace"), {}
        if self.parse_json and p.returncode == 0:
            doc = json.loads(out)
            out, detail = doc.get("stdout", ""), doc.get("metrics", {})
        if p.returncode != 0 or EXPECT[self.prog] not in out:
            raise RuntimeError(f"exit {p.returncode}: {(p.stderr or p.stdout).decode(errors='replace').strip()[-300:]}")
        return dt, detail


class HttpCmd(Cmd):
    def __init__(self, rt, prog, mode, server, body):
        super().__init__(rt, prog, mode)
        self.server, self.body = server, json.dumps(body).encode()
        self.local = threading.local()

    def run(self):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/v1/execute", self.body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
        except (http.client.HTTPException, OSError):
            conn.close()
            self.local.conn = None
            raise
        dt = time.perf_counter() - t0
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {data[:300].decode(errors='replace')}")
        doc = json.loads(data)
        if not doc.get("success") or EXPECT[self.prog] not in doc.get("stdout", ""):
            raise RuntimeError(f"run failed: {json.dumps(doc)[:300]}")
        return dt, doc.get("metrics", {})


# ---- servers and docker -------------------------------------------------------------------
class Server:
    """`ignite serve` on 127.0.0.1 with a free port; .skip holds why it could not start."""

    def __init__(self, name, extra, work, env=None, start=True):
        self.name, self.port, self.skip, self.proc = name, None, None, None
        self.logf = work / f"serve-{name}.log"
        self.argv = [IGNITE, "serve", "--host", "127.0.0.1", "--port", "0", "--keep-alive-timeout", "600",
                     "--max-queue", "256", "--max-connections-per-peer", "256", *extra]
        self.env, self.extra = env, extra
        if start:
            self.start()

    def start(self):
        with open(self.logf, "wb") as f:
            self.proc = subprocess.Popen(self.argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=self.env)
        deadline = time.time() + 120  # the docker backend's first start builds its runtime images
        while time.time() < deadline:
            text = self.logf.read_text(errors="replace")
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", text)
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                lines = [l for l in text.splitlines() if l.strip()]
                self.skip = f"`ignite serve {' '.join(self.extra)}` exited {self.proc.returncode}: " + \
                            (lines[-1][:200] if lines else "no output")
                return
            time.sleep(0.05)
        self.skip = "`ignite serve` did not print its port within 120 s"
        self.stop()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Docker:
    """A reachable dockerd (the default one, else one we start on our own socket) and the image."""

    def __init__(self, work, rts):
        self.env, self.proc, self.skip = dict(os.environ), None, None
        if not shutil.which("docker"):
            self.skip = "no docker client on PATH"
            return
        if not self.ping():
            self.env["DOCKER_HOST"] = "unix://" + DOCKER_SOCK
            if not self.ping() and not self.start(work):
                return
        self.skip = self.build_image(work, rts)

    def ping(self):
        return subprocess.run(["docker", "info"], env=self.env, capture_output=True).returncode == 0

    def start(self, work):
        if not shutil.which("dockerd"):
            self.skip = "no dockerd reachable and no dockerd binary (apt-get install docker.io)"
            return False
        # Its own socket and state, no bridge or iptables rules: nothing here needs a network.
        argv = ["dockerd", "-H", "unix://" + DOCKER_SOCK, "--pidfile", "/run/ignite-bench-docker.pid",
                "--data-root", "/var/lib/ignite-bench-docker", "--exec-root", "/run/ignite-bench-docker",
                "--iptables=false", "--ip6tables=false", "--bridge=none"]
        log("starting dockerd for this run")
        self.proc = subprocess.Popen(argv, stdout=open(work / "dockerd.log", "wb"), stderr=subprocess.STDOUT)
        for _ in range(300):
            if self.ping():
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        tail = (work / "dockerd.log").read_text(errors="replace").strip().splitlines()[-1:]
        self.skip = f"dockerd did not start: {tail[0][:200] if tail else 'no output'}"
        self.stop()
        return False

    def build_image(self, work, rts):
        """FROM scratch: each runtime binary, its shared libraries, Python's stdlib, the programs."""
        # The go binary is one of the programs, in /bench; python's venv link is there too, and
        # the interpreter it names is copied to where the venv's `home` expects it.
        files = {os.path.realpath(p) for rt in rts.values() for p in [rt["bin"]] + [a for a in rt["args"] if a.startswith("/")]
                 if not os.path.realpath(p).startswith(str(work))}
        for binary in list(files):
            ldd = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
            files |= set(re.findall(r"(/\S+) \(0x", ldd))
        stamp = json.dumps(sorted((f, os.stat(f).st_size, os.stat(f).st_mtime) for f in files)) + \
            "".join(f.read_text() for f in sorted(PROGS.iterdir()))
        label = hashlib.sha256(stamp.encode()).hexdigest()[:16]
        have = subprocess.run(["docker", "image", "inspect", "-f", '{{index .Config.Labels "ignite.bench"}}', IMAGE],
                              env=self.env, capture_output=True, text=True).stdout.strip()
        if have == label:
            return None
        log("building the docker image (FROM scratch, runtimes copied in)")
        rootfs = work / "rootfs"
        for f in files:
            dest = rootfs / f.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.realpath(f), dest)
        if "python" in rts:
            shutil.copytree("/usr/lib/python3.11", rootfs / "usr/lib/python3.11", symlinks=True,
                            ignore=shutil.ignore_patterns("test", "__pycache__"))
        shutil.copytree(work, rootfs / "bench", ignore=shutil.ignore_patterns("rootfs", "*.log"))
        (rootfs / "tmp").mkdir()
        (rootfs / "tmp").chmod(0o1777)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        r = subprocess.run(["docker", "import", "-c", f"LABEL ignite.bench={label}", "-", IMAGE],
                           stdin=tar.stdout, env=self.env, capture_output=True, text=True)
        tar.wait()
        shutil.rmtree(rootfs)
        return None if r.returncode == 0 else f"docker import failed: {r.stderr.strip()[:200]}"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)


# ---- building the rows --------------------------------------------------------------------
def commands(rts, work, docker, servers):
    modes = CFG["BENCH_MODES"].split(",")
    pool_rts = {p.split("=")[0] for p in CFG["BENCH_POOL"].split(",") if p}
    cmds, skipped = [], {}
    for rt, spec in rts.items():
        for prog, fname in spec["files"].items():
            env = {"PATH": "/usr/bin:/bin", **spec["env"]}
            if prog == "dp":
                env["IGNITE_INPUT"] = json.dumps(INPUT)
            # A runtime inside the work dir (python's venv) is named where each row sees that dir.
            binary = spec["bin"].replace(str(work), "{dir}")
            target = [spec["bin"]] if rt == "go" else [binary, *spec["args"], "{dir}/" + fname]
            argv = lambda d: [a.replace("{dir}", d) for a in target]
            if "bare" in modes:
                cmds.append(ProcCmd(rt, prog, "bare", argv(str(work)), env))
            if "bwrap" in modes:
                binds = ["--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64",
                         "/lib64", "--symlink", "usr/bin", "/bin", "--ro-bind", str(work), "/bench",
                         "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--chdir", "/bench"]
                if STORE.is_dir():
                    binds += ["--ro-bind", str(STORE), str(STORE)]
                bargv = argv("/bench") if rt != "go" else ["/bench/hello-go"]
                cmds.append(ProcCmd(rt, prog, "bwrap", ["bwrap", "--unshare-all", "--die-with-parent", *binds, *bargv], env))
            if "docker" in modes:
                if docker.skip:
                    skipped["docker"] = docker.skip
                else:
                    denv = [x for k, v in env.items() if k != "PATH" for x in ("-e", f"{k}={v}")]
                    dargv = argv("/bench") if rt != "go" else ["/bench/hello-go"]
                    cmds.append(ProcCmd(rt, prog, "docker", ["docker", "run", "--rm", "--network", "none", *denv,
                                                             IMAGE, *dargv], {**docker.env, **env}))
            extra = ["--input", json.dumps(INPUT)] if prog == "dp" else []
            if "exec" in modes:
                cmds.append(ProcCmd(rt, prog, "exec", [IGNITE, "exec", "--runtime", rt, str(work / fname), "--json", *extra],
                                    dict(os.environ), parse_json=True))
            if "dexec" in modes:
                if not docker or docker.skip:
                    skipped["dexec"] = docker.skip if docker else "needs the docker mode's daemon"
                else:
                    cmds.append(ProcCmd(rt, prog, "dexec", [IGNITE, "exec", "--isolation", "docker", "--runtime", rt,
                                                            str(work / fname), "--json", *extra],
                                        {**os.environ, **docker.env}, parse_json=True))
            vm = rt in VM_RTS and prog == "hello"
            if "vexec" in modes and vm:
                cmds.append(ProcCmd(rt, prog, "vexec", [IGNITE, "exec", "--isolation", "microvm", "--runtime", rt,
                                                        str(work / fname), "--json", *extra],
                                    dict(os.environ), parse_json=True))
            body = {"runtime": rt, "code": (work / fname).read_text(), **({"input": INPUT} if prog == "dp" else {})}
            for mode in ("serve", "pool", "dpool", "vserve", "vpool"):
                if mode in ("vserve", "vpool") and not vm:
                    continue
                if mode not in modes or (mode in ("pool", "dpool") and rt not in pool_rts):
                    continue
                if servers.get(mode) is None:
                    skipped[mode] = "needs the docker mode's daemon"
                    continue
                if servers[mode].skip:
                    skipped[mode] = servers[mode].skip
                else:
                    cmds.append(HttpCmd(rt, prog, mode, servers[mode], body))
    return cmds, skipped


# ---- phases -------------------------------------------------------------------------------
def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


VM_MODES = ("vexec", "vserve", "vpool")


def latency_phase(cmds):
    """The rows' rounds, interleaved; then the microvm rows' rounds, interleaved among themselves.
    A TCG guest booting (a vexec run, or the vpool server filling its pool) keeps a core busy for
    seconds: beside the other rows it slowed them all, so the VM rows run after them, and their
    servers start only then."""
    rng = random.Random(int(CFG["BENCH_SEED"]))
    rounds([c for c in cmds if c.mode not in VM_MODES], RUNS, rng)
    vm = [c for c in cmds if c.mode in VM_MODES]
    servers = {id(c.server): c.server for c in vm if isinstance(c, HttpCmd)}
    for server in servers.values():
        log(f"starting the {server.name} server for the microvm rows")
        server.start()
    for c in vm:
        if isinstance(c, HttpCmd) and c.server.skip:
            c.error = c.server.skip
    try:
        rounds([c for c in vm if not c.error], VM_RUNS, rng)
    finally:
        for server in servers.values():
            server.stop()


class Settle:
    """Waits until the machine is quiet before a measurement starts. What one command leaves
    running after its client has its answer (a pool refilling its slots, a server's teardown,
    containerd's cleanup after `docker run`) would otherwise land on whichever command the
    shuffle put next, and be counted as that command's latency. Quiet: /proc/loadavg's count of
    runnable tasks is 1 (this reader) in QUIET_SAMPLES samples in a row, SAMPLE_S apart. Load
    from outside the bench still drifts across every row alike. One wait gives up after CAP_S; once
    the waits add up to BUDGET_S (a machine that is never quiet) settling stops, and the report
    says so."""
    QUIET_SAMPLES, SAMPLE_S, CAP_S, BUDGET_S = 5, 0.002, 2.0, 300.0

    def __init__(self, enabled):
        self.enabled, self.waits, self.timeouts, self.total = enabled, [], 0, 0.0

    def __call__(self):
        if not self.enabled or self.total >= self.BUDGET_S:
            return
        t0 = time.perf_counter()
        streak, give_up = 0, t0 + self.CAP_S
        while time.perf_counter() < give_up:
            with open("/proc/loadavg") as f:
                running = int(f.read().split()[3].split("/")[0])
            streak = streak + 1 if running <= 1 else 0
            if streak >= self.QUIET_SAMPLES:
                break
            time.sleep(self.SAMPLE_S)
        else:
            self.timeouts += 1
        self.waits.append(time.perf_counter() - t0)
        self.total += self.waits[-1]
        if self.total >= self.BUDGET_S:
            log(f"settle: the waits reached {self.BUDGET_S:.0f} s; the machine is seldom quiet, settling stops here")

    def summary(self):
        if not self.enabled:
            return {"enabled": False}
        w = self.waits or [0.0]
        return {"enabled": True, "budgetSpent": self.total >= self.BUDGET_S, "count": len(self.waits),
                "timeouts": self.timeouts, "p50WaitMs": round(statistics.median(w) * 1000, 1),
                "p99WaitMs": round(pct(w, 0.99) * 1000, 1), "totalWaitS": round(self.total, 1)}


SETTLE = Settle(CFG["BENCH_SETTLE"] == "1")


def rounds(cmds, count, rng):
    for c in cmds:
        for _ in range(WARMUP):
            try:
                c.run()
            except Exception as e:  # a row that cannot run is reported, not fatal
                c.error = str(e)[:300]
                log(f"{c.key}: {c.error}")
                break
    live = [c for c in cmds if not c.error]
    for rnd in range(count if live else 0):
        order = [c for c in live if c.mode not in ("docker", "dexec") or rnd < DOCKER_RUNS]
        rng.shuffle(order)
        t0 = time.time()
        for c in order:
            SETTLE()
            try:
                dt, detail = c.run()
            except Exception as e:
                c.error = f"round {rnd}: {str(e)[:300]}"
                continue
            c.times.append(dt)
            c.details.append(detail)
        log(f"round {rnd + 1}/{count}: {len(order)} commands in {time.time() - t0:.1f} s")


def tree_cpu():
    """CPU seconds used so far by this driver and everything it started, the server's helpers and
    sandboxes included; other load on the machine is not counted. Summing utime+stime+cutime+cstime
    over the live tree counts every process once: a live one itself, a dead one in its reaper."""
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            procs[int(d)] = (int(f[1]), sum(int(x) for x in f[11:15]))  # ppid, utime..cstime
    tree, grew = {os.getpid()}, True
    while grew:
        new = {pid for pid, (ppid, _) in procs.items() if ppid in tree} - tree
        tree |= new
        grew = bool(new)
    return sum(procs[p][1] for p in tree if p in procs) / os.sysconf("SC_CLK_TCK")


def throughput(cmd, clients, seconds):
    count, errors, stop_at = [0], [0], time.perf_counter() + seconds
    lock = threading.Lock()

    def worker():
        while time.perf_counter() < stop_at:
            try:
                cmd.run()
                with lock:
                    count[0] += 1
            except Exception:
                with lock:
                    errors[0] += 1

    c0, t0 = tree_cpu(), time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed, busy = time.perf_counter() - t0, tree_cpu() - c0
    return {"runsPerSecond": round(count[0] / elapsed, 1), "runs": count[0], "errors": errors[0],
            "cpuMsPerRun": round(busy * 1000 / count[0], 1) if count[0] else None}


def throughput_phase(cmds):
    """BENCH_TP_REPEATS cells of every (runtime, mode) per concurrency level, interleaved (bare,
    serve, pool, bare, serve, pool, ...), each after the machine has settled; the median cell is
    reported with the others beside it. One cell of a few seconds on two shared cores moved by
    25% between runs of the same build."""
    seconds, repeats, out = float(CFG["BENCH_TP_SECONDS"]), int(CFG["BENCH_TP_REPEATS"]), []
    tp_rts = CFG["BENCH_TP_RUNTIMES"].split(",")
    chosen = [c for c in cmds if c.prog == "hello" and c.rt in tp_rts and c.mode in ("bare", "serve", "pool")
              and not c.error]
    for n in [int(x) for x in CFG["BENCH_CLIENTS"].split(",")]:
        cells = {c.key: [] for c in chosen}
        for rep in range(repeats):
            for c in chosen:
                SETTLE()
                r = throughput(c, n, seconds)
                cells[c.key].append(r)
                log(f"throughput {c.key} x{n} ({rep + 1}/{repeats}): {r}")
        for c in chosen:
            rs = sorted(cells[c.key], key=lambda r: r["runsPerSecond"])
            mid = rs[len(rs) // 2]
            out.append({"runtime": c.rt, "mode": c.mode, "clients": n, **mid,
                        "cells": [r["runsPerSecond"] for r in cells[c.key]],
                        "errors": sum(r["errors"] for r in rs)})
    return out


TRACE = "clone,clone3,execve,exit_group,mount,umount2,pivot_root,mkdir,rmdir,wait4,waitid"


def trace_phases(argv, env, runtime_bins):
    """Where one run's wall time goes, from `strace -f -ttt` on a few syscalls (median of 3):
    start until the clone that creates the sandbox's namespaces, until the runtime's execve, the
    runtime itself, and from its exit until the whole command has exited. Tracing slows each
    traced step a little; read the split, not the sum."""
    if not shutil.which("strace"):
        return None
    phases = []
    for _ in range(3):
        with tempfile.NamedTemporaryFile("r", suffix=".strace") as f:
            subprocess.run(["strace", "-f", "-ttt", "--seccomp-bpf", "-e", f"trace={TRACE}", "-o", f.name, *argv],
                           env=env, capture_output=True)
            lines = [l.split(None, 2) for l in open(f.name) if l.strip()]
        if not lines:
            return None
        ev = [(int(pid), float(t), rest) for pid, t, rest in lines]
        root, t0 = ev[0][0], ev[0][1]
        clone = next((t for _, t, r in ev if r.startswith(("clone", "unshare")) and "CLONE_NEW" in r), None)
        exe = [(pid, t) for pid, t, r in ev
               if r.startswith(tuple(f'execve("{b}"' for b in runtime_bins)) and ") = 0" in r]
        if not exe:
            return None
        rt_pid, t_exec = exe[-1]
        t_exit = next((t for pid, t, r in ev if pid == rt_pid and t > t_exec and r.startswith(("exit_group", "+++"))),
                      None)
        t_end = max(t for pid, t, r in ev if pid == root)
        if t_exit is None:
            return None
        phases.append({"toSandboxCloneMs": (clone - t0) * 1000 if clone else None,
                       "toRuntimeExecMs": (t_exec - (clone or t0)) * 1000,
                       "runtimeMs": (t_exit - t_exec) * 1000, "afterExitMs": (t_end - t_exit) * 1000})
    return {k: (round(statistics.median([p[k] for p in phases]), 1) if phases[0][k] is not None else None)
            for k in phases[0]}


def breakdown_phase(cmds, docker):
    """Where the time goes, measured: result-document timings, syscall profiles, docker's steps."""
    out = {}
    for c in cmds:
        if c.mode in ("exec", "serve", "pool", "dexec", "dpool", "vexec", "vserve", "vpool") and c.details and c.times:
            setup = [d.get("setupMs") for d in c.details if d.get("setupMs") is not None]
            run = [d.get("executionTimeMs") for d in c.details if d.get("executionTimeMs") is not None]
            if setup and run:
                total = statistics.median(c.times) * 1000
                out[c.key] = {"totalMs": round(total, 1), "setupMs": round(statistics.median(setup), 1),
                              "programMs": round(statistics.median(run), 1),
                              "restMs": round(total - statistics.median(setup) - statistics.median(run), 1)}
    for key in ("python/hello", "node/hello"):
        for mode in ("bare", "bwrap", "exec"):
            c = next((c for c in cmds if c.key == f"{key}/{mode}" and not c.error), None)
            if c:
                out[f"strace:{c.key}"] = trace_phases(c.argv, c.env, RUNTIME_BINS[c.rt])
    d = next((c for c in cmds if c.key == "python/hello/docker" and not c.error), None)
    if d:
        steps = {"create": [], "start": [], "rm": []}
        for _ in range(5):
            t0 = time.perf_counter()
            cid = subprocess.run(["docker", "create", "--network", "none", IMAGE, "/bench/pyvenv/bin/python3", "-E", "-s",
                                  "/bench/hello.py"], env=docker.env, capture_output=True, text=True).stdout.strip()
            t1 = time.perf_counter()
            subprocess.run(["docker", "start", "-a", cid], env=docker.env, capture_output=True)
            t2 = time.perf_counter()
            subprocess.run(["docker", "rm", cid], env=docker.env, capture_output=True)
            t3 = time.perf_counter()
            for k, v in zip(steps, (t1 - t0, t2 - t1, t3 - t2)):
                steps[k].append(v * 1000)
        t0 = time.perf_counter()
        for _ in range(5):
            subprocess.run(["docker", "version"], env=docker.env, capture_output=True)
        out["docker:python/hello"] = {**{f"{k}Ms": round(statistics.median(v), 1) for k, v in steps.items()},
                                      "clientRoundTripMs": round((time.perf_counter() - t0) * 200, 1)}
    return out


# ---- report -------------------------------------------------------------------------------
def machine_facts(rts):
    def sh(*argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout.strip()
        except Exception:
            return ""
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    cg = "v2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "v1"
    versions = {rt: sh(s["bin"], "--version").splitlines()[0] if rt not in ("go", "quickjs") and sh(s["bin"], "--version") else ""
                for rt, s in rts.items()}
    if "go" in rts:
        versions["go"] = sh("go", "version")
    if "quickjs" in rts:
        versions["quickjs"] = Path(rts["quickjs"]["bin"]).parent.parent.name
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu, "cores": os.cpu_count(),
            "kernel": os.uname().release, "cgroup": cg, "ignite": sh(IGNITE, "--version"),
            "commit": sh("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"),
            "dirty": bool(sh("git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no")),
            "bwrap": sh("bwrap", "--version"), "docker": sh("docker", "--version"), "runtimes": versions,
            "config": CFG}


def summarize(cmds):
    bare = {(c.rt, c.prog): statistics.median(c.times) for c in cmds if c.mode == "bare" and c.times}
    rows = []
    for c in cmds:
        row = {"runtime": c.rt, "program": c.prog, "mode": c.mode, "n": len(c.times), "error": c.error}
        if c.times:
            p50 = statistics.median(c.times)
            b = bare.get((c.rt, c.prog))
            row.update(p50Ms=round(p50 * 1000, 1), p99Ms=round(pct(c.times, 0.99) * 1000, 1),
                       ratioToBare=round(p50 / b, 2) if b else None,
                       timesMs=[round(t * 1000, 1) for t in c.times])  # in round order: drift shows
        rows.append(row)
    return rows


def settle_sentence(st):
    if not st.get("enabled"):
        return "Commands ran back to back (BENCH_SETTLE=0): what one left running fell on the next."
    quiet_ms = Settle.QUIET_SAMPLES * Settle.SAMPLE_S * 1000
    return (f"Before each measured command and throughput cell the driver waited for the machine to be quiet (no "
            f"other task runnable for {quiet_ms:.0f} ms; what a command leaves running, such as a pool's refill, is "
            f"not counted as the next one's latency): {st['count']} waits, p50 {st['p50WaitMs']} ms, p99 {st['p99WaitMs']} ms, "
            f"{st['timeouts']} gave up after {Settle.CAP_S:.0f} s"
            + (f"; the waits reached {Settle.BUDGET_S:.0f} s and settling stopped there." if st.get("budgetSpent") else "."))


def markdown(doc):
    m, L = doc["machine"], []
    L += [f"# Benchmark results ({m['date']}, ignite {m['commit']}{' + uncommitted changes' if m['dirty'] else ''})", "",
          f"Machine: {m['cpu']}, {m['cores']} cores, kernel {m['kernel']}, cgroup {m['cgroup']}. "
          f"{m['ignite']}; {m['bwrap']}; {m['docker'] or 'no docker client'}. Load average (1 min) before/after: "
          f"{m['loadavg1mBeforeAfter'][0]:.1f}/{m['loadavg1mBeforeAfter'][1]:.1f} (other work on the machine).", "",
          "Runtimes: " + "; ".join(f"{k} {v}" for k, v in m["runtimes"].items()) + ".", "",
          f"Latency: {RUNS} interleaved rounds (docker and dexec in the first {DOCKER_RUNS}), {WARMUP} warm-up runs each; "
          "modes: bare process, bwrap, `docker run`, `ignite exec` (native, cold), `ignite serve` without and with pools, "
          "and Ignite's docker backend cold (dexec: `ignite exec --isolation docker`) and warm (dpool: `ignite serve "
          "--isolation docker` with pools), and the microvm backend (TCG here) booted per run (vexec: `ignite exec "
          "--isolation microvm`) and restored from a template (vserve: `ignite serve "
          "--isolation microvm`), and warm VMs (vpool: the runtime started ahead in the guest, `ignite serve "
          f"--isolation microvm --pool {CFG['BENCH_VM_POOL']}`), these three in {VM_RUNS} rounds of their own after "
          "the others' (a guest booting under TCG beside them slowed every row); python's bare, bwrap and docker rows "
          "run the system's interpreter through a venv: `site` on, as Ignite runs it, over the standard library only; "
          "times are client-side wall clock from spawn/request to exit/response. ratio = p50 / bare p50 "
          "(same runtime and program, same run). "
          "With this few runs p99 is close to the maximum. " + settle_sentence(doc.get("settle", {})), ""]
    L += ["| runtime | program | mode | p50 ms | p99 ms | × bare | n |", "|---|---|---|---:|---:|---:|---:|"]
    for r in doc["latency"]:
        if r.get("p50Ms") is None:
            L.append(f"| {r['runtime']} | {r['program']} | {r['mode']} | failed: {r['error']} | | | 0 |")
        else:
            L.append(f"| {r['runtime']} | {r['program']} | {r['mode']} | {r['p50Ms']} | {r['p99Ms']} | "
                     f"{r['ratioToBare'] if r['ratioToBare'] is not None else '–'} | {r['n']} |")
    for mode, why in doc["skipped"].items():
        L.append(f"\n**{mode}: skipped** — {why}")
    L += ["", f"## Throughput (hello-world, runs/s: the median of {CFG['BENCH_TP_REPEATS']} interleaved cells of "
          f"{CFG['BENCH_TP_SECONDS']} s, every cell beside it; cpu = ms of CPU per run, in the median cell, used by the "
          "driver and everything it started, servers included)", "",
          "| runtime | mode | clients | runs/s | × bare | cells | cpu ms/run | errors |",
          "|---|---|---:|---:|---:|---|---:|---:|"]
    base = {(t["runtime"], t["clients"]): t["runsPerSecond"] for t in doc["throughput"] if t["mode"] == "bare"}
    for t in doc["throughput"]:
        b = base.get((t["runtime"], t["clients"]))
        cells = " ".join(str(x) for x in t.get("cells", [t["runsPerSecond"]]))
        L.append(f"| {t['runtime']} | {t['mode']} | {t['clients']} | {t['runsPerSecond']} | "
                 f"{round(t['runsPerSecond'] / b, 2) if b else '–'} | {cells} | {t['cpuMsPerRun']} | {t['errors']} |")
    L += ["", "## Where the time goes", "", "Ignite rows, medians: setup = sandbox start until the runtime's execve, "
          "program = execve until exit (both from the result document), rest = everything else the client waited for "
          "(CLI start or HTTP, staging the files, teardown).", "",
          "| row | total ms | setup ms | program ms | rest ms |", "|---|---:|---:|---:|---:|"]
    for k, v in doc["breakdown"].items():
        if isinstance(v, dict) and "setupMs" in v:
            L.append(f"| {k} | {v['totalMs']} | {v['setupMs']} | {v['programMs']} | {v['restMs']} |")
    traced = [(k[7:], v) for k, v in doc["breakdown"].items() if k.startswith("strace:") and v]
    if traced:
        L += ["", "Under `strace -f -ttt` (median of 3; tracing inflates every step, read the split): start → the clone "
              "that creates the namespaces → the runtime's execve → its exit → the command has exited.", "",
              "| row | to sandbox clone ms | clone → runtime execve ms | runtime ms | after exit ms |",
              "|---|---:|---:|---:|---:|"]
        for k, v in traced:
            L.append(f"| {k} | {v['toSandboxCloneMs'] if v['toSandboxCloneMs'] is not None else '–'} | "
                     f"{v['toRuntimeExecMs']} | {v['runtimeMs']} | {v['afterExitMs']} |")
    for k, v in doc["breakdown"].items():
        if k.startswith("docker:"):
            L.append(f"\ndocker {k[7:]} in steps (medians): " + ", ".join(f"{a} {b}" for a, b in v.items()))
    if "nats" in doc:
        L += nats_markdown(doc["nats"])
    return "\n".join(L) + "\n"


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `timeout`: still stop what we started
    out = Path(CFG["BENCH_OUT"])
    out.mkdir(parents=True, exist_ok=True)
    t_start, load_before = time.time(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ignite-bench-") as tmp:
        work = Path(tmp)
        stage_programs(work)
        rts = runtimes(work)
        log("runtimes:", ", ".join(rts))
        modes = CFG["BENCH_MODES"].split(",")
        docker = Docker(work, rts) if "docker" in modes else None
        servers = {"serve": Server("serve", ["--pool", "none"], work) if "serve" in modes else None,
                   "pool": Server("pool", ["--pool", CFG["BENCH_POOL"]], work) if "pool" in modes else None,
                   "dpool": Server("dpool", ["--isolation", "docker", "--pool", CFG["BENCH_POOL"]], work,
                                   {**os.environ, **docker.env})
                   if "dpool" in modes and docker and not docker.skip else None,
                   # started by the microvm rows' own phase (latency_phase)
                   "vserve": Server("vserve", ["--isolation", "microvm", "--pool", "none"], work, start=False)
                   if "vserve" in modes else None,
                   "vpool": Server("vpool", ["--isolation", "microvm", "--pool", CFG["BENCH_VM_POOL"]], work,
                                   start=False) if "vpool" in modes else None}
        for name, s in servers.items():
            if s and s.skip:
                log(f"{name}: skipped: {s.skip}")
        try:
            cmds, skipped = commands(rts, work, docker, servers)
            latency_phase(cmds)
            tp = throughput_phase(cmds)
            breakdown = breakdown_phase(cmds, docker)
        finally:
            for s in servers.values():
                if s:
                    s.stop()
            if docker:
                docker.stop()
        try:
            nats = nats_phase(IGNITE, log=log) if "nats" in modes else {"skipped": "not in BENCH_MODES"}
        except Exception as e:  # a failed phase is reported, it does not lose the others
            nats = {"skipped": f"failed: {e}"}
        doc = {"machine": {**machine_facts(rts), "loadavg1mBeforeAfter": [load_before, os.getloadavg()[0]]}, "latency": summarize(cmds), "skipped": skipped,
               "throughput": tp, "breakdown": breakdown, "nats": nats, "settle": SETTLE.summary(),
               "seconds": round(time.time() - t_start)}
    (out / "latest.json").write_text(json.dumps(doc, indent=1) + "\n")
    (out / "latest.md").write_text(markdown(doc))
    sys.stdout.write(markdown(doc))
    log(f"done in {doc['seconds']} s: {out}/latest.md, latest.json")


if __name__ == "__main__":
    main()
