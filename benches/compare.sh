#!/usr/bin/env bash
# Times whole commands of plonk, uv and pip with hyperfine, on the workloads of the [speed] issue:
#   W1: a venv with tutor 22.0.3, then `install mfe indigo` (2 sdists), cold and warm cache
#   W2: an empty venv, then tutor + 12 plugins, cold and warm cache
#   W3: `upgrade` on the W2 environment with nothing to do
#   MEM: plonk's peak memory on W2 cold (GNU time)
#   SCALE: plonk alone, cold, tutor + 1, 3, 6 and 12 plugins (cost per plugin should stay flat)
# Prints a table of medians and plonk's ratio to uv and pip (each tool's median / plonk's).
# Usage: benches/compare.sh [RUNS] [WORKLOADS...]   e.g. benches/compare.sh 3 W1
# Needs network access to PyPI. Installs hyperfine (apt) and uv + pip (PyPI) into a tools folder.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-5}
shift || true
WORKLOADS=${*:-W1 W2 W3 MEM SCALE}
WORK=${BENCH_DIR:-/tmp/plonk-bench}
TOOLS=$WORK/tools
mkdir -p "$WORK"

command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
[ -x "$TOOLS/bin/uv" ] || { python3 -m venv "$TOOLS" && "$TOOLS/bin/pip" install -q uv; }
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"

PLONK=$ROOT/target/release/plonk
UV=$TOOLS/bin/uv
PY=$(command -v python3)
export PLONK_CACHE_DIR=$WORK/cache/plonk UV_CACHE_DIR=$WORK/cache/uv PIP_CACHE_DIR=$WORK/cache/pip
export TUTOR_ROOT=$WORK/tutor-root XDG_CONFIG_HOME=$WORK/config
unset VIRTUAL_ENV PIP_FIND_LINKS
# plonk finds `aspects` nowhere offline, so W2 names it by its distribution.
W1_PLONK="mfe indigo"
W1_REQS="tutor-mfe>=22.0.0,<23.0.0 tutor-indigo>=22.0.0,<23.0.0"
W2_NAMES="android cairn credentials discovery forum indigo jupyter mfe minio notes xqueue"
W2_REQS="tutor==22.0.3 tutor-android>=22,<23 tutor-cairn>=22,<23 tutor-credentials>=22,<23 tutor-discovery>=22,<23 tutor-forum>=22,<23 tutor-indigo>=22,<23 tutor-jupyter>=22,<23 tutor-mfe>=22,<23 tutor-minio>=22,<23 tutor-notes>=22,<23 tutor-xqueue>=22,<23 tutor-contrib-aspects"
quote() { local out=""; for r in $1; do out="$out '$r'"; done; echo "$out"; }

# The plugin index plonk uses: the real official index files, from this repository.
"$PLONK" index add "$ROOT/fixtures/tpi/main" -q >/dev/null 2>&1 || true
"$PLONK" index remove main -q >/dev/null 2>&1 || true
"$PLONK" index remove contrib -q >/dev/null 2>&1 || true

RESULTS=$WORK/results.md
: > "$RESULTS"

# Template venvs with tutor 22.0.3, made once per tool at the path the timed runs use.
template() { # tool dir
  local tool=$1 dir=$2
  rm -rf "$dir" "$dir.tpl"
  case $tool in
    plonk) "$PLONK" venv "$dir" --tutor '==22.0.3' -q ;;
    uv) "$UV" venv -q --python "$PY" "$dir" && "$UV" pip install -q --python "$dir/bin/python" 'tutor==22.0.3' ;;
    pip) "$PY" -m venv "$dir" && "$dir/bin/python" -m pip install -q 'tutor==22.0.3' ;;
  esac
  mv "$dir" "$dir.tpl"
}

bench() { # name, prepare, commands (plonk uv pip)
  local name=$1 prepare=$2; shift 2
  hyperfine --runs "$RUNS" --warmup 0 --prepare "$prepare" --export-markdown "$WORK/$name.md" \
    --export-json "$WORK/$name.json" -n plonk "$1" -n uv "$2" -n pip "$3" | tee "$WORK/$name.txt"
  echo "### $name" >> "$RESULTS"; cat "$WORK/$name.md" >> "$RESULTS"; echo >> "$RESULTS"
}

if [[ " $WORKLOADS " == *" W1 "* ]]; then
  for t in plonk uv pip; do template $t "$WORK/w1-$t"; done
  reset="for t in plonk uv pip; do rm -rf $WORK/w1-\$t; cp -a $WORK/w1-\$t.tpl $WORK/w1-\$t; done"
  P="$PLONK --python $WORK/w1-plonk install $W1_PLONK -q"
  U="$UV pip install -q --python $WORK/w1-uv/bin/python $(quote "$W1_REQS")"
  I="$WORK/w1-pip/bin/python -m pip install -q $(quote "$W1_REQS")"
  bench W1-cold "$reset; rm -rf $WORK/cache" "$P" "$U" "$I"
  # Warm: fill every cache once, then time fresh copies of the template.
  bash -c "$reset" && bash -c "$P" && bash -c "$U" && bash -c "$I"
  bench W1-warm "$reset" "$P" "$U" "$I"
fi

if [[ " $WORKLOADS " == *" W2 "* || " $WORKLOADS " == *" W3 "* ]]; then
  reset="rm -rf $WORK/w2-plonk $WORK/w2-uv $WORK/w2-pip && $PLONK venv $WORK/w2-plonk -q && $UV venv -q --python $PY $WORK/w2-uv && $PY -m venv $WORK/w2-pip"
  P="$PLONK --python $WORK/w2-plonk install tutor==22.0.3 $W2_NAMES tutor-contrib-aspects -q"
  U="$UV pip install -q --python $WORK/w2-uv/bin/python $(quote "$W2_REQS")"
  I="$WORK/w2-pip/bin/python -m pip install -q $(quote "$W2_REQS")"
  if [[ " $WORKLOADS " == *" W2 "* ]]; then
    bench W2-cold "$reset; rm -rf $WORK/cache" "$P" "$U" "$I"
    # Warm: the cold runs of the other tools emptied every cache; fill them once first.
    bash -c "$reset" && bash -c "$P" && bash -c "$U" && bash -c "$I"
    bench W2-warm "$reset" "$P" "$U" "$I"
  fi
  if [[ " $WORKLOADS " == *" W3 "* ]]; then
    bash -c "$reset" && bash -c "$P" && bash -c "$U" && bash -c "$I"
    bench W3 "true" "$PLONK --python $WORK/w2-plonk upgrade -q" \
      "$UV pip install -q --upgrade --python $WORK/w2-uv/bin/python $(quote "$W2_REQS")" \
      "$WORK/w2-pip/bin/python -m pip install -q --upgrade $(quote "$W2_REQS")"
  fi
fi

if [[ " $WORKLOADS " == *" MEM "* ]]; then
  # Peak resident memory of plonk on W2 cold (GNU time's maximum RSS), each run from scratch.
  : > "$WORK/mem.txt"
  for _ in $(seq "$RUNS"); do
    rm -rf "$WORK/w2-plonk" "$WORK/cache/plonk" && "$PLONK" venv "$WORK/w2-plonk" -q
    /usr/bin/time -f "%M" -o "$WORK/mem.run" \
      $PLONK --python "$WORK/w2-plonk" install tutor==22.0.3 $W2_NAMES tutor-contrib-aspects -q
    cat "$WORK/mem.run" >> "$WORK/mem.txt"
  done
fi

if [[ " $WORKLOADS " == *" SCALE "* ]]; then
  # plonk alone, cold cache: tutor plus the first N plugins of W2.
  : > "$WORK/scale.txt"
  read -r -a names <<< "$W2_NAMES tutor-contrib-aspects"
  for n in 1 3 6 12; do
    cmd="$PLONK --python $WORK/scale install tutor==22.0.3 ${names[*]:0:$n} -q"
    hyperfine --runs "$RUNS" --warmup 0 \
      --prepare "rm -rf $WORK/scale $WORK/cache/plonk && $PLONK venv $WORK/scale -q" \
      --export-json "$WORK/scale-$n.json" -n "plonk $n" "$cmd" >/dev/null
    echo "$n $WORK/scale-$n.json" >> "$WORK/scale.txt"
  done
fi

# One table of medians and ratios from hyperfine's JSON exports.
python3 - "$WORK" <<'PY'
import json, os, statistics, sys
work = sys.argv[1]
def medians(name):
    path = os.path.join(work, name + ".json")
    if not os.path.exists(path):
        return None
    return {r["command"]: statistics.median(r["times"]) for r in json.load(open(path))["results"]}
def fmt(seconds):
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"
print("| workload | plonk | uv | pip | uv / plonk | pip / plonk |")
print("|---|---|---|---|---|---|")
for name in ["W1-cold", "W1-warm", "W2-cold", "W2-warm", "W3"]:
    m = medians(name)
    if not m:
        continue
    p, u, i = m["plonk"], m["uv"], m["pip"]
    print(f"| {name} | {fmt(p)} | {fmt(u)} | {fmt(i)} | {u / p:.1f}x | {i / p:.1f}x |")
mem = os.path.join(work, "mem.txt")
if os.path.exists(mem):
    kib = [int(line) for line in open(mem) if line.strip().isdigit()]
    if kib:
        print(f"\nplonk peak memory on W2 cold: median {statistics.median(kib) / 1024:.0f} MiB, max {max(kib) / 1024:.0f} MiB")
scale = os.path.join(work, "scale.txt")
if os.path.exists(scale):
    print("\n| plugins (cold, plonk) | median | added per plugin beyond the first |")
    print("|---|---|---|")
    first = None
    for line in open(scale):
        n, path = line.split()
        n = int(n)
        t = statistics.median(json.load(open(path))["results"][0]["times"])
        first = first or (n, t)
        extra = fmt((t - first[1]) / (n - first[0])) if n > first[0] else "-"
        print(f"| tutor + {n} | {fmt(t)} | {extra} |")
PY
echo; echo "hyperfine's own tables (means): $RESULTS"
