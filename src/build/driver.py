"""plonk's PEP 517 hook driver: runs one build-backend hook in the build environment.

Usage: python -I driver.py REQUEST.json RESULT.json

REQUEST.json holds {"backend": "module:object", "backend_path": [absolute folders],
"hook": name, "args": [positional arguments]}. The outcome is written to RESULT.json (never to
stdout, which the backend may use for its own chatter) as {"status": ..., ...}:
  ok                  {"result": <hook return value>}
  hook-missing        the backend does not define this optional hook
  backend-unavailable the backend cannot be imported (traceback on stderr)
  backend-invalid     backend-path is set but the backend was loaded from elsewhere
  hook-failed         the hook raised (traceback on stderr)

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


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: driver.py REQUEST.json RESULT.json\n")
        return 2
    with open(sys.argv[1], encoding="utf-8") as handle:
        request = json.load(handle)
    result_path = sys.argv[2]

    backend, failure = _load_backend(request["backend"], request.get("backend_path") or [])
    if failure is not None:
        _write(result_path, failure)
        return 0
    hook = getattr(backend, request["hook"], None)
    if hook is None:
        _write(result_path, {"status": "hook-missing"})
        return 0
    try:
        value = hook(*request.get("args", []))
    except BaseException as error:  # noqa: B036 - setup.py scripts call sys.exit()
        if isinstance(error, KeyboardInterrupt):
            raise
        traceback.print_exc()
        sys.stderr.flush()
        _write(result_path, {"status": "hook-failed", "message": repr(error)})
        return 0
    sys.stdout.flush()
    _write(result_path, {"status": "ok", "result": value})
    return 0


if __name__ == "__main__":
    sys.exit(main())
