# plonk's interpreter query: run once per interpreter (the answer is cached), prints one JSON
# object on stdout. Standard library only; must run on CPython/PyPy 3.8+ inside a venv without
# pip. The syntax stays Python-2 compatible so that an old interpreter reports its version
# instead of a SyntaxError.
import sys

# `python -c` puts the current directory first on sys.path: drop it so a stray `json.py` or
# `platform.py` in the user's folder cannot shadow the standard library.
if sys.path and sys.path[0] in ("", "."):
    del sys.path[0]

import json
import os
import platform

if sys.version_info < (3, 8):
    print(json.dumps({"error": "unsupported_python", "version": platform.python_version()}))
    sys.exit(0)

import struct
import subprocess
import sysconfig
from importlib.machinery import EXTENSION_SUFFIXES


def format_full_version(info):
    version = "{0.major}.{0.minor}.{0.micro}".format(info)
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return version


def markers():
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": format_full_version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_python_implementation": platform.python_implementation(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def scheme_name():
    names = sysconfig.get_scheme_names()
    # 3.11+ has a dedicated scheme; before that posix_prefix / nt is what venv's site.py uses
    # (distribution patches such as Debian's posix_local must not leak into a venv).
    if "venv" in names:
        return "venv"
    if os.name == "nt":
        return "nt"
    return "posix_prefix"


def scheme_for(prefix):
    paths = sysconfig.get_paths(
        scheme=scheme_name(),
        vars={
            "base": prefix,
            "platbase": prefix,
            "installed_base": prefix,
            "installed_platbase": prefix,
        },
    )
    # Headers of a wheel's .data/headers: pip's historical location inside a virtualenv.
    include = os.path.join(
        prefix, "include", "site", "python{0}.{1}".format(*sys.version_info[:2])
    )
    return {
        "purelib": paths["purelib"],
        "platlib": paths["platlib"],
        "scripts": paths["scripts"],
        "data": paths["data"],
        "include": include,
    }


def base_executable():
    if sys.prefix == sys.base_prefix:
        return sys.executable
    # Inside a venv: the interpreter the venv was made from. 3.11+ computes it; older versions
    # set _base_executable to the venv's own python, so fall back to pyvenv.cfg's `home`.
    candidate = getattr(sys, "_base_executable", None)
    if candidate and os.path.isfile(candidate):
        inside = False
        for path, prefix in (
            (os.path.abspath(candidate), os.path.abspath(sys.prefix)),
            (os.path.realpath(candidate), os.path.realpath(sys.prefix)),
        ):
            inside = inside or path.startswith(prefix.rstrip(os.sep) + os.sep)
        if not inside:
            return candidate
    home = None
    try:
        with open(os.path.join(sys.prefix, "pyvenv.cfg")) as cfg:
            for line in cfg:
                key, sep, value = line.partition("=")
                if sep and key.strip().lower() == "home":
                    home = value.strip()
    except OSError:
        pass
    if home:
        names = [
            os.path.basename(sys.executable),
            "python{0}.{1}".format(*sys.version_info[:2]),
            "python3",
            "python",
        ]
        for name in names:
            path = os.path.join(home, name)
            if os.path.isfile(path):
                return path
    return os.path.realpath(sys.executable)


def elf_header(path):
    """The ELF class, data encoding, machine, flags and program interpreter of `path`."""
    try:
        with open(path, "rb") as f:
            ident = f.read(16)
            if len(ident) < 16 or ident[:4] != b"\x7fELF":
                return None
            elf_class, elf_data = ident[4], ident[5]
            end = "<" if elf_data == 1 else ">"
            if elf_class == 1:
                hdr, phdr = end + "HHIIIIIHHH", end + "IIIIIIII"
                fields = struct.unpack(hdr, f.read(struct.calcsize(hdr)))
                machine, phoff, flags, phentsize, phnum = (
                    fields[1], fields[4], fields[6], fields[8], fields[9])
            elif elf_class == 2:
                hdr, phdr = end + "HHIQQQIHHH", end + "IIQQQQQQ"
                fields = struct.unpack(hdr, f.read(struct.calcsize(hdr)))
                machine, phoff, flags, phentsize, phnum = (
                    fields[1], fields[4], fields[6], fields[8], fields[9])
            else:
                return None
            interpreter = None
            for index in range(phnum):
                f.seek(phoff + phentsize * index)
                entry = struct.unpack(phdr, f.read(struct.calcsize(phdr)))
                if entry[0] != 3:  # PT_INTERP
                    continue
                offset, size = (entry[1], entry[4]) if elf_class == 1 else (entry[2], entry[5])
                f.seek(offset)
                interpreter = f.read(size).strip(b"\0").decode("ascii", "replace")
                break
            return {
                "class": elf_class,
                "data": elf_data,
                "machine": machine,
                "flags": flags,
                "interpreter": interpreter,
            }
    except (OSError, struct.error, ValueError):
        return None


def glibc_version():
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION")
        if version:
            return version.split()[1]
    except (AttributeError, OSError, ValueError, IndexError):
        pass
    name, version = platform.libc_ver()
    if name == "glibc" and version:
        return version
    return None


def musl_version(elf):
    loader = elf and elf["interpreter"]
    if not loader or "musl" not in loader:
        return None
    try:
        proc = subprocess.run([loader], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    except OSError:
        return None
    lines = [line.strip() for line in proc.stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    if len(lines) < 2 or not lines[0].startswith("musl"):
        return None
    words = lines[1].split()
    if len(words) < 2 or words[0] != "Version":
        return None
    return words[1]


def mac_version():
    version, _, machine = platform.mac_ver()
    if not version:
        return None, None
    if version.split(".")[:2] == ["10", "16"]:
        # Built against an old SDK, Python reports 10.16 for every macOS 11+.
        try:
            version = subprocess.run(
                [sys.executable, "-sS", "-c", "import platform; print(platform.mac_ver()[0])"],
                env={"SYSTEM_VERSION_COMPAT": "0"},
                stdout=subprocess.PIPE,
                check=True,
            ).stdout.decode("ascii", "replace").strip()
        except (OSError, subprocess.CalledProcessError):
            pass
    return version, machine


def main():
    config = sysconfig.get_config_var
    elf = elf_header(sys.executable) if sys.platform.startswith("linux") else None
    mac, mac_machine = mac_version() if sys.platform == "darwin" else (None, None)
    debug = config("Py_DEBUG")
    if debug is None:
        debug = hasattr(sys, "gettotalrefcount") or "_d.pyd" in EXTENSION_SUFFIXES
    prefix_scheme = scheme_for(sys.prefix)
    venv_layout = {}
    for key in ("purelib", "platlib", "scripts"):
        venv_layout[key] = os.path.relpath(prefix_scheme[key], sys.prefix)
    venv_layout["include"] = os.path.relpath(prefix_scheme["include"], sys.prefix)
    answer = {
        "executable": sys.executable,
        "base_executable": base_executable(),
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "version_info": list(sys.version_info[:3]),
        "markers": markers(),
        "scheme": prefix_scheme,
        "venv_layout": venv_layout,
        "platform": {
            "sysconfig_platform": sysconfig.get_platform(),
            "pointer_size": struct.calcsize("P"),
            "glibc_version": glibc_version() if sys.platform.startswith("linux") else None,
            "musl_version": musl_version(elf),
            "elf": elf,
            "mac_version": mac,
            "mac_machine": mac_machine,
        },
        "abi": {
            "py_version_nodot": config("py_version_nodot"),
            "soabi": config("SOABI"),
            "ext_suffix": config("EXT_SUFFIX"),
            "abiflags": getattr(sys, "abiflags", None),
            "debug": bool(debug),
            "gil_disabled": bool(config("Py_GIL_DISABLED")),
        },
    }
    print(json.dumps(answer))


main()
