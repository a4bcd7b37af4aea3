"""plonk's PEP 517 hook driver: runs build-backend hooks in the build environment.

Usage: python -I -u driver.py --session WORKDIR

A session runs several hooks of one build in one process, so the backend is imported once.
Each line read from stdin names a request file inside WORKDIR; EOF ends the session.

A request holds {"backend": "module:object", "backend_path": [absolute folders],
"hook": name, "args": [positional arguments], "result": file name, "log": file name}, the
files being in WORKDIR too. While the hook runs, file descriptors 1 and 2 point at the
request's log (appended to), so each hook has its own log and the backend's subprocesses write
there too. The outcome is written atomically to the result file (never to stdout, which the
backend uses for its own chatter) as {"status": ..., ...}:
  ok                  {"result": <hook return value>}
  hook-missing        the backend does not define this optional hook
  backend-unavailable the backend cannot be imported (traceback in the log)
  backend-invalid     backend-path is set but the backend was loaded from elsewhere
  hook-failed         the hook raised (traceback in the log)
then the request's file name is written as one line to the original stdout (the control pipe),
which tells plonk that the result is ready.

Standard library only; runs on Python 3.8+.
"""

import importlib
import json
import os
import sys
import traceback


def _write(path, payload):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
    os.replace(tmp, path)


def _inside(path, folders):
    real = os.path.normcase(os.path.realpath(path))
    for folder in folders:
        base = os.path.normcase(os.path.realpath(folder))
        try:
            if os.path.commonpath([real, base]) == base:
                return True
        except ValueError:  # different drives on Windows
            continue
    return False


def _load_backend(spec, backend_path):
    module_name, _, object_path = spec.partition(":")
    module_name = module_name.strip()
    for folder in reversed(backend_path):
        sys.path.insert(0, folder)
    try:
        obj = importlib.import_module(module_name)
    except ImportError:
        traceback.print_exc()
        return None, {"status": "backend-unavailable", "message": "cannot import " + module_name}
    if backend_path:
        # PEP 517: with backend-path the backend must come from those folders, not from an
        # installed copy that happens to shadow it.
        origin = getattr(obj, "__file__", None)
        if origin is None or not _inside(origin, backend_path):
            return None, {
                "status": "backend-invalid",
                "message": "{} was loaded from {}, outside backend-path".format(module_name, origin),
            }
    if object_path.strip():
        for attribute in object_path.strip().split("."):
            try:
                obj = getattr(obj, attribute)
            except AttributeError:
                return None, {
                    "status": "backend-unavailable",
                    "message": "{} has no attribute {}".format(spec, attribute),
                }
    return obj, None


def _run(request, backends):
    """Runs one hook and returns the payload for the result file."""
    key = (request["backend"], tuple(request.get("backend_path") or []))
    if key not in backends:
        backend, failure = _load_backend(key[0], list(key[1]))
        if failure is not None:
            return failure
        backends[key] = backend
    hook = getattr(backends[key], request["hook"], None)
    if hook is None:
        return {"status": "hook-missing"}
    try:
        value = hook(*request.get("args", []))
    except BaseException as error:  # noqa: B036 - setup.py scripts call sys.exit()
        if isinstance(error, KeyboardInterrupt):
            raise
        traceback.print_exc()
        return {"status": "hook-failed", "message": repr(error)}
    return {"status": "ok", "result": value}


def _redirect_output(log_path):
    """Points fds 1 and 2 (and so sys.stdout, sys.stderr and subprocesses) at the hook's log."""
    sys.stdout.flush()
    sys.stderr.flush()
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.dup2(log, 1)
        os.dup2(log, 2)
    finally:
        os.close(log)


def _in_workdir(workdir, name):
    """The path of a file plonk named in WORKDIR; anything but a bare name is a bug."""
    if not name or os.path.basename(name) != name or name in (".", ".."):
        raise ValueError("not a file name in the work folder: {!r}".format(name))
    return os.path.join(workdir, name)


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "--session":
        sys.stderr.write("usage: driver.py --session WORKDIR\n")
        return 2
    workdir = sys.argv[2]
    # Private copies of the request and control pipes (os.dup makes them non-inheritable),
    # then fd 0 becomes /dev/null: a backend's subprocess reading stdin must not eat requests.
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    control = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    start_dir = os.getcwd()
    backends = {}
    for line in requests:
        name = line.strip()
        if not name:
            continue
        with open(_in_workdir(workdir, name), encoding="utf-8") as handle:
            request = json.load(handle)
        _redirect_output(_in_workdir(workdir, request["log"]))
        # A hook that changed the working folder must not move the next one.
        os.chdir(start_dir)
        payload = _run(request, backends)
        sys.stdout.flush()
        sys.stderr.flush()
        _write(_in_workdir(workdir, request["result"]), payload)
        control.write(name + "\n")
        control.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
