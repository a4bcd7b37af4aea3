#!/usr/bin/env python3
"""Regenerates the seed corpora under fuzz/corpus/<target>/ from real data.

Sources: the index fixtures (fixtures/tpi/**/plugins.yml), the wheels in fixtures/wheels/, the
dist-info folders of the local CPython 3.11 site-packages, wheels in pip's cache, plus a few
hand-written inputs for forms real data rarely shows (quoting, folding, git sources, hostile
paths). Large files are cut at a line boundary so the whole corpus stays small (< 2 MB).
Run from anywhere: `python3 fuzz/seed_corpus.py`. Only the standard library (and PyYAML when
present, to pull `src` values out of the index files) is used.
"""

import glob
import hashlib
import os
import re
import shutil
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "corpus")
SITE = os.path.expanduser("~/.pyenv/versions/3.11.7/lib/python3.11/site-packages")
MAX_FILE = 12 * 1024
MAX_RECORD_LINES = 60


def cut(data: bytes, limit: int = MAX_FILE) -> bytes:
    """Keeps whole lines up to `limit` bytes."""
    if len(data) <= limit:
        return data
    end = data.rfind(b"\n", 0, limit)
    return data[: end + 1 if end > 0 else limit]


def first_lines(data: bytes, n: int) -> bytes:
    lines = data.splitlines(keepends=True)
    return b"".join(lines[:n])


class Target:
    def __init__(self, name: str):
        self.dir = os.path.join(CORPUS, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.seen = set()

    def add(self, label: str, data) -> None:
        if isinstance(data, str):
            data = data.encode()
        digest = hashlib.sha1(data).hexdigest()
        if digest in self.seen:
            return
        self.seen.add(digest)
        label = re.sub(r"[^A-Za-z0-9_.+-]", "_", label)[:80]
        with open(os.path.join(self.dir, label), "wb") as f:
            f.write(data)


def wheels():
    paths = sorted(glob.glob(os.path.join(ROOT, "fixtures/wheels/*.whl")))
    return paths


def dist_infos():
    return sorted(glob.glob(os.path.join(SITE, "*.dist-info")))


def wheel_member(path: str, suffix: str):
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            parts = name.split("/")
            if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == suffix:
                return z.read(name)
    return None


def read(path: str):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def index_yaml():
    t = Target("index_yaml")
    srcs = []
    for path in sorted(glob.glob(os.path.join(ROOT, "fixtures/tpi/*/*/plugins.yml"))):
        index, release = path.split(os.sep)[-3:-1]
        data = read(path)
        t.add(f"tpi-{index}-{release}.yml", data)
        try:
            import yaml

            for entry in yaml.safe_load(data) or []:
                if isinstance(entry, dict) and isinstance(entry.get("src"), str):
                    srcs.append((f"{index}-{release}-{entry.get('name')}", entry["src"]))
        except ImportError:
            pass
    t.add("empty-list.yml", "[]\n")
    t.add("empty.yml", "# nothing\n")
    t.add("html.yml", "<!DOCTYPE html>\n<html><body>Not Found</body></html>\n")
    t.add("mapping.yml", "name: notes\nsrc: tutor-notes\n")
    t.add(
        "cache.yml",
        "- author: Edly\n  description: |-\n    Course notes\n    for students\n"
        "  index: https://overhang.io/tutor/main/redwood/plugins.yml\n  name: notes\n"
        "  src: tutor-notes>=18.0.0,<19.0.0\n  url: https://github.com/overhangio/tutor-notes\n",
    )
    t.add(
        "extras.yml",
        "- name: Extra\n  src: |\n    --index-url https://pypi.example/simple\n    tutor-extra==1.0\n"
        "  stars: 12\n  ratio: 0.5\n  enabled: yes\n  tags: [a, b]\n  meta: {k: v, n: null}\n"
        "  url: ~\n  author: 7\n- name: ''\n  src: x\n- src: nameless\n- name: nosrc\n"
        "- just a string\n- name: [list]\n  src: x\n",
    )
    t.add(
        "anchors.yml",
        "- &a\n  name: one\n  src: tutor-one\n  description: \"tab\\tand \\u00e9 and \\x85 end\"\n"
        "- <<: *a\n  name: TWO\n- name: three\n  src: 'https://example.com/p/three.py'\n"
        "  description: >\n    folded\n    text\n",
    )
    return srcs


def source_src(srcs):
    t = Target("source_src")
    for label, src in srcs:
        t.add(label, src)
    for i, src in enumerate(
        [
            "tutor-mfe>=18.0.0,<19.0.0",
            "tutor-contrib-x[extra]==1.2; python_version >= '3.9'",
            "tutor-x @ https://files.example/tutor_x-1.0-py3-none-any.whl",
            "git+https://github.com/org/tutor-repo@v1.2.3#egg=tutor-repo&subdirectory=pkg",
            "-e git+https://github.com/org/tutor-repo.git@main#egg=tutor_repo",
            "tutor-repo @ git+https://user:secret@git.example/org/repo.git@abc123",
            "--index-url https://user:pw@pypi.example/simple\n--extra-index-url https://x.example/simple\n"
            "-f ./wheels\ntutor-private>=1\n",
            "-i https://pypi.example/simple tutor-a\n# comment\n\ntutor-b  # trailing\n",
            "https://raw.githubusercontent.com/org/repo/main/myplugin.py",
            "file:///home/u/plugins/p.yml",
            "/abs/path/plugin.py",
            "../../etc/passwd.py",
            "hg+https://hg.example/repo#egg=x",
            "--trusted-host x\n",
            "tutor-a \\\n  >=1\n",
            "git+https://h/r@..#egg=x",
            "${HOME}/p.py",
        ]
    ):
        t.add(f"hand-{i}", src)


def metadata():
    t = Target("metadata")
    for w in wheels():
        data = wheel_member(w, "METADATA")
        if data:
            t.add("wheel-" + os.path.basename(w) + ".METADATA", cut(data))
    infos = dist_infos()
    for d in infos[:: max(1, len(infos) // 25)]:
        data = read(os.path.join(d, "METADATA"))
        if data:
            t.add(os.path.basename(d) + ".METADATA", cut(data))
    t.add(
        "pkg-info-1.1",
        "Metadata-Version: 1.1\nName: Legacy_Pkg\nVersion: 0.9.post1\nSummary: old\n"
        "Description: first line\n        second line\n        |third\nPlatform: UNKNOWN\n"
        "Requires-Python: >=2.7, !=3.0.*\n",
    )
    t.add(
        "pkg-info-2.2-dynamic",
        "Metadata-Version: 2.2\r\nName: dyn\r\nVersion: 1.0\r\nDynamic: Requires-Dist\r\n"
        "Provides-Extra: test\r\nRequires-Dist: pytest ; extra == 'test'\r\n"
        "Project-URL: Home, https://example.com\r\n\r\nBody text\r\n",
    )


def record():
    t = Target("record")
    for w in wheels():
        data = wheel_member(w, "RECORD")
        if data:
            t.add("wheel-" + os.path.basename(w) + ".RECORD", first_lines(data, MAX_RECORD_LINES))
    infos = dist_infos()
    for d in infos[:: max(1, len(infos) // 20)]:
        data = read(os.path.join(d, "RECORD"))
        if data:
            t.add(os.path.basename(d) + ".RECORD", first_lines(data, MAX_RECORD_LINES))
    t.add(
        "quoted",
        'pkg/__init__.py,sha256=AVTFPZpEKzuHr7OvQZmhaU3LvwKz06AJw8mT_pNh2yI,4\r\n'
        '"pkg/a,b.py",sha256=x_y,10\n"pkg/q""uote.py",,\n"line\nbreak",,\n'
        "pkg-1.0.dist-info/RECORD,,\n\n../../../bin/tool,sha256=abc,12",
    )
    t.add("hostile", "../../etc/passwd,,\n/abs/path,,\nC:\\win\\x.py,,\n")


def entry_points():
    t = Target("entry_points")
    for w in wheels():
        data = wheel_member(w, "entry_points.txt")
        if data:
            t.add("wheel-" + os.path.basename(w) + ".entry_points", cut(data))
    for d in dist_infos():
        data = read(os.path.join(d, "entry_points.txt"))
        if data:
            t.add(os.path.basename(d) + ".entry_points", cut(data))
    t.add(
        "hand",
        "# comment\n[console_scripts]\nfoo = foo.cli:main\nbar=bar:run [extra1, extra2]\n\n"
        "; other\n[tutor.plugin.v1]\nmfe = tutormfe.plugin\n[empty]\n",
    )


def wheel_filename():
    t = Target("wheel_filename")
    names = set()
    for pattern in [
        os.path.join(ROOT, "fixtures/wheels/*.whl"),
        os.path.expanduser("~/.cache/pip/wheels/**/*.whl"),
        os.path.expanduser("~/.cache/plonk/**/*.whl"),
    ]:
        names.update(os.path.basename(p) for p in glob.glob(pattern, recursive=True))
    for d in dist_infos():
        stem = os.path.basename(d)[: -len(".dist-info")]
        wheel = read(os.path.join(d, "WHEEL")) or b""
        tags = [
            line.split(b":", 1)[1].strip().decode()
            for line in wheel.splitlines()
            if line.startswith(b"Tag:")
        ]
        if tags:
            py = ".".join(dict.fromkeys(x.split("-")[0] for x in tags))
            abi = ".".join(dict.fromkeys(x.split("-")[1] for x in tags))
            plat = ".".join(dict.fromkeys(x.split("-")[2] for x in tags))
            names.add(f"{stem}-{py}-{abi}-{plat}.whl")
    for name in sorted(names)[:60]:
        t.add(name, name)
    for i, name in enumerate(
        [
            "foo-1.0-1build-py2.py3-none-any.whl",
            "tutor-18.0.0.tar.gz",
            "tutor_mfe-18.1.2.zip",
            "Django-REST-framework-3.0.TAR.GZ",
            "django-rest-framework\nDjango-REST-framework-3.0.tar.gz",
            "tutor-mfe\ntutor_mfe-18.1.2-py3-none-any.whl",
            "numpy-2.0.0+local.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "../evil-1.0-py3-none-any.whl",
        ]
    ):
        t.add(f"hand-{i}", name)


def main():
    srcs = index_yaml()
    source_src(srcs)
    metadata()
    record()
    entry_points()
    wheel_filename()
    total = sum(
        os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(CORPUS) for f in fs
    )
    for name in sorted(os.listdir(CORPUS)):
        print(f"{name}: {len(os.listdir(os.path.join(CORPUS, name)))} files")
    print(f"total: {total} bytes")


if __name__ == "__main__":
    main()
