# Ignite's warm-slot bootstrap for Python (protocol: src/sandbox/common/handoff.hpp).
# Ours and trusted, but it runs inside the sandbox with the program's identity and limits,
# before the program exists. It loads the interpreter (and site), says it is ready, reads the
# job from stdin (exactly its length: the rest of stdin is the program's) and then runs the
# entry as `python3 <entry> <args>` would: same argv, env, cwd, sys.path[0], __main__ module.
#
# It imports nothing that site has not loaded already: json, runpy and pkgutil would more than
# double the CPU time of starting the interpreter (11 -> 28 ms here), which every slot pays.
import os
import sys


def _read(n):
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            os._exit(0)  # the slot was closed without a job
        data += chunk
    return data


def _header():
    digits = b""
    while not digits.endswith(b"\n"):
        digits += _read(1)
    return _read(int(digits)).decode("utf-8")


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def _parse(text):
    """The JSON handoff.cpp writes: an object whose values are strings or arrays of strings,
    without whitespace. Anything else is a bug of ours: it raises, and the slot ends."""
    pos = 0

    def expect(char):
        nonlocal pos
        if text[pos] != char:
            raise ValueError("bad job header at %d" % pos)
        pos += 1

    def string():
        nonlocal pos
        expect('"')
        out = []
        while True:
            quote, slash = text.find('"', pos), text.find("\\", pos)
            if quote < 0:
                raise ValueError("bad job header: unterminated string")
            if slash < 0 or quote < slash:
                out.append(text[pos:quote])
                pos = quote + 1
                return "".join(out)
            out.append(text[pos:slash])
            kind = text[slash + 1]
            if kind == "u":
                out.append(chr(int(text[slash + 2:slash + 6], 16)))
                pos = slash + 6
            else:
                out.append(_ESCAPES[kind])
                pos = slash + 2

    def value():
        nonlocal pos
        if text[pos] == '"':
            return string()
        items = []
        expect("[")
        while text[pos] != "]":
            if items:
                expect(",")
            items.append(string())
        expect("]")
        return items

    job = {}
    expect("{")
    while text[pos] != "}":
        if job:
            expect(",")
        key = string()
        expect(":")
        job[key] = value()
    return job


def _finish(code, os=os, sys=sys):  # its own references: the globals are the program's by then
    # What the interpreter does at exit that anyone outside the sandbox can see: non-daemon
    # threads joined, atexit handlers run, stdout and stderr flushed. The rest of finalization
    # (tearing down every module) is skipped: the sandbox and everything in it goes next.
    if "threading" in sys.modules:
        sys.modules["threading"]._shutdown()
    import atexit  # built in: no file is read

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - as the interpreter: a failed flush at exit is 120
            code = 120
    os._exit(code & 0xFF)


def _run(job, os=os, sys=sys, finish=_finish):
    # The slot started with the job's environment minus its input variables; what the runtime
    # set for itself as it started stays, as it would in a cold start.
    for kv in job["env"]:
        key, _, value = kv.partition("=")
        os.environ.setdefault(key, value)
    os.chdir(job["cwd"])
    sys.argv = list(job["argv"])
    if hasattr(sys, "orig_argv"):  # 3.10+: the interpreter's own argv, ours last: the entry's instead
        sys.orig_argv = sys.orig_argv[:-1] + sys.argv
    entry = sys.argv[0]
    sys.path[0] = os.path.dirname(entry)
    main = globals()  # becomes the program's __main__, with the names a cold start gives it
    # A cold start's loader for a script. Not type(our own __loader__): this bootstrap runs
    # compiled (warm.hpp), from a .pyc, whose loader is SourcelessFileLoader.
    source_loader = sys.modules["_frozen_importlib_external"].SourceFileLoader
    loader, builtins = source_loader("__main__", entry), main["__builtins__"]
    main.clear()
    main.update(__name__="__main__", __doc__=None, __package__=None, __loader__=loader, __spec__=None,
                __annotations__={}, __builtins__=builtins, __file__=entry, __cached__=None)
    try:
        with open(entry, "rb") as f:
            source = f.read()
        exec(compile(source, entry, "exec"), main)
    except SystemExit as e:
        if e.code is None:
            finish(0)
        if isinstance(e.code, int):
            finish(e.code)
        print(e.code, file=sys.stderr)
        finish(1)
    except BaseException as e:  # noqa: BLE001 - printed as the interpreter would, then exit 1
        # The traceback starts at the program's own frame, as it does in a cold run.
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != entry:
            tb = tb.tb_next
        sys.excepthook(type(e), e.with_traceback(tb), tb)
        finish(1)
    finish(0)


os.write(1, b"\0ignite-ready\n")
_run(_parse(_header()))
