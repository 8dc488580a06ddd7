# Ignite's warm-slot bootstrap for Python (protocol: src/sandbox/common/handoff.hpp).
# Ours and trusted, but it runs inside the sandbox with the program's identity and limits,
# before the program exists. It loads the interpreter (and site), says it is ready, reads the
# job from stdin (exactly its length: the rest of stdin is the program's) and then runs the
# entry as `python3 <entry> <args>` would: same argv, env, cwd, sys.path[0], __main__.
import json
import pkgutil  # noqa: F401 - runpy.run_path imports it on first use; loaded ahead here
import os
import runpy
import sys


def _read(n):
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            os._exit(0)  # the slot was closed without a job
        data += chunk
    return data


def _header_length():
    digits = b""
    while not digits.endswith(b"\n"):
        digits += _read(1)
    return int(digits)


os.write(1, b"\0ignite-ready\n")
_job = json.loads(_read(_header_length()))
# The slot started with the job's environment minus its input variables; what the runtime
# set for itself as it started stays, as it would in a cold start.
for _kv in _job["env"]:
    _k, _, _v = _kv.partition("=")
    os.environ.setdefault(_k, _v)
os.chdir(_job["cwd"])
sys.argv = list(_job["argv"])
_entry = sys.argv[0]
sys.path[0] = os.path.dirname(_entry)
del _read, _header_length, _job, _kv, _k, _v
try:
    runpy.run_path(_entry, run_name="__main__")
except SystemExit:
    raise
except BaseException as e:  # noqa: BLE001 - printed as the interpreter would, then exit 1
    # The traceback starts at the program's own frame, as it does in a cold run.
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != _entry:
        tb = tb.tb_next
    sys.excepthook(type(e), e.with_traceback(tb), tb)
    sys.exit(1)
