#!/usr/bin/env python3
"""Where one cold `ignite exec` spends its time, phase by phase, in the kernel's clock.

Places uprobes at the entry and return of the functions that bound each phase (and on the
dynamic loader's `_dl_init`), records them with the scheduler's exec/exit events for N runs of
`ignite exec --runtime RT PROGRAM --json`, and prints the median of each phase. Each probe hit
costs a few microseconds, so the phases add up to a little more than an untraced run. The
numbers are for comparing builds on one machine (run it on both), not for the bench's table.

Given --ignite more than once, it alternates the builds run by run (A B A B ...), so that load
which drifts meanwhile hits them alike, and prints them side by side.

Needs root and `perf` (linux-perf); without them it says so and exits 0. Not part of `make
test` or `make bench`. Usage:
  bench/cold_phases.py [--ignite BINARY]... [--runs 15] [--runtime python] [PROGRAM]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROUP = "ignite_phase"  # + the build's index
LOADER = "/lib64/ld-linux-x86-64.so.2"

# (probe name, demangled symbol prefix, also probe the return?)
PROBES = [
    ("main", "main", False),
    ("make_engine", "ignite::cli::make_engine(std::", True),
    ("cancel", "ignite::cli::CancelOnSignal::start()", True),
    ("resolve", "ignite::runtime::Catalog::resolve(", True),
    ("adhoc", "ignite::engine::Engine::execute_adhoc(", True),
    ("run_program", "ignite::engine::Engine::run_program(", True),
    ("plan", "ignite::sandbox::native::build_mount_plan(", True),
    ("slot_run", "ignite::sandbox::native::NativeSlot::run(", True),
]

# (label, from event, to event); events: probe names, name+"_ret", exec:/exit: of a command
# (`ignite`, `init`, `program`), "loaded" (_dl_init's return in ignite).
PHASES = [
    ("loader: execve to the end of _dl_init", "exec:ignite", "loaded"),
    ("static initialisers", "loaded", "main"),
    ("command line parsed", "main", "make_engine"),
    ("engine: instance, backends", "make_engine", "make_engine_ret"),
    ("signal thread started", "cancel", "cancel_ret"),
    ("runtime resolved", "resolve", "resolve_ret"),
    ("request staged", "resolve_ret", "plan"),
    ("mount plan", "plan", "plan_ret"),
    ("cgroups, pipes, clone, init's execve", "plan_ret", "exec:init"),
    ("init: namespaces, mounts, seccomp", "exec:init", "exec:program"),
    ("the program", "exec:program", "exit:program"),
    ("result: init's exit, counters, output", "exit:program", "slot_run_ret"),
    ("  (of which init's exit: its namespaces)", "exit:program", "exit:init"),
    ("teardown: cgroups, scratch, staging", "slot_run_ret", "run_program_ret"),
    ("report printed, process exit", "run_program_ret", "exit:ignite"),
    ("total", "exec:ignite", "exit:ignite"),
]


def sh(*argv, check=True):
    return subprocess.run(argv, capture_output=True, text=True, check=check)


def symbol_addresses(binary):
    out = sh("nm", "-C", "--defined-only", binary).stdout
    found = {}
    for name, prefix, _ in PROBES:
        for line in out.splitlines():
            parts = line.split(" ", 2)
            if len(parts) == 3 and parts[1] in "Tt" and parts[2].startswith(prefix):
                if prefix != "main" or parts[2] == "main":
                    found[name] = "0x" + parts[0]
                    break
    return found


def remove_probes():
    out = sh("perf", "probe", "-l", check=False).stdout
    for group in sorted({m.group(1) for m in re.finditer(rf"({GROUP}\d*):", out)}):
        sh("perf", "probe", "-q", "-d", f"{group}:*", check=False)


def add_probes(binary, group):
    addrs = symbol_addresses(binary)
    missing = [n for n, _, _ in PROBES if n not in addrs]
    for name, _, ret in PROBES:
        if name not in addrs:
            continue
        sh("perf", "probe", "-q", "-f", "-x", binary, "--add", f"{group}:{name}={addrs[name]}")
        if ret:
            sh("perf", "probe", "-q", "-f", "-x", binary, "--add", f"{group}:{name}_ret={addrs[name]}%return")
    return missing


def one_run(argv, group, data):
    sh("perf", "record", "-q", "-e", f"{group}:*", "-e", f"{GROUP}:*", "-e", "sched:sched_process_exec",
       "-e", "sched:sched_process_exit", "-o", data, "--", *argv, check=False)
    script = sh("perf", "script", "-i", data, "-F", "pid,time,event", check=False).stdout
    events, kinds = {}, {}  # event -> ms; pid -> ignite / init / program, from its first exec
    for line in script.splitlines():
        m = re.match(r"\s*(\d+)\s+([\d.]+):\s+(\S+):", line)
        if not m:
            continue
        pid, t, event = int(m.group(1)), float(m.group(2)) * 1e3, m.group(3)
        if event == "sched:sched_process_exec":
            if pid not in kinds:
                kinds[pid] = "ignite" if not kinds else "init" if "init" not in kinds.values() else "program"
                events.setdefault(f"exec:{kinds[pid]}", t)
        elif event == "sched:sched_process_exit":
            kind = kinds.get(pid)
            # A process's last thread to exit is its exit; the program's first process is it.
            if kind and (kind != "program" or f"exit:{kind}" not in events):
                events[f"exit:{kind}"] = t
        else:
            # perf names a second build's events main_1, ... (probe -f)
            name = re.sub(r"_\d+$", "", event.split(":", 1)[1].replace("__return", ""))
            if name == "dl_init_ret":
                if kinds.get(pid) == "ignite":
                    events.setdefault("loaded", t)
            else:
                events.setdefault(name, t)
    return events


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ignite", action="append", help="a build to trace (repeatable); default build/dev's")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--runtime", default="python")
    ap.add_argument("program", nargs="?")
    args = ap.parse_args()
    if os.geteuid() != 0 or not shutil.which("perf"):
        print("cold_phases: skipped: needs root and perf (apt-get install linux-perf)")
        return 0
    binaries = [os.path.realpath(b) for b in (args.ignite or [str(ROOT / "build/dev/src/cli/ignite")])]
    work = tempfile.mkdtemp(prefix="ignite-phases-")
    program = args.program
    if not program:
        program = os.path.join(work, "hello.py" if args.runtime == "python" else "hello.js")
        Path(program).write_text('print("hello world")\n' if args.runtime == "python" else 'console.log("hello world")\n')
    init = Path(binaries[0]).parent / "ignite-sandbox-init"
    if init.exists():
        os.environ.setdefault("IGNITE_SANDBOX_INIT", str(init))
    runs = [[] for _ in binaries]
    try:
        remove_probes()
        sh("perf", "probe", "-q", "-x", LOADER, "--add", f"{GROUP}:dl_init_ret=_dl_init%return")
        for i, binary in enumerate(binaries):
            missing = add_probes(binary, f"{GROUP}{i}")
            if missing:
                print(f"{binary}: no probe for (renamed?): " + ", ".join(missing))
        argvs = [[b, "exec", "--runtime", args.runtime, program, "--json"] for b in binaries]
        for argv in argvs:
            subprocess.run(argv, capture_output=True)  # the runtime's probe cache, the page cache
        for _ in range(args.runs):
            for i, argv in enumerate(argvs):
                runs[i].append(one_run(argv, f"{GROUP}{i}", os.path.join(work, "perf.data")))
    finally:
        remove_probes()
        shutil.rmtree(work, ignore_errors=True)
    print(f"exec --runtime {args.runtime}: median of {args.runs} runs, ms (p10)")
    for i, binary in enumerate(binaries):
        print(f"  [{i}] {binary}")
    print(f"  {'':<40}" + "".join(f"{'[' + str(i) + ']':>16}" for i in range(len(binaries))))
    for label, a, b in PHASES:
        cells = []
        for r in runs:
            spans = sorted(x[b] - x[a] for x in r if a in x and b in x)
            cells.append(f"{statistics.median(spans):7.2f} ({spans[len(spans) // 10]:5.2f})" if spans else f"{'-':>15}")
        print(f"  {label:<40}" + "".join(f"{c:>16}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
