#!/usr/bin/env bash
# The national-scale benchmark: pmf against the floor and the polars / DuckDB / pandas peers.
#
#   benches/run.sh [--rows subset|full] [--submission] [--runs N] [--timeout S] [--pmf PATH] [--base PATH]
#                  [--floor PATH] [--tools LIST]
#
#   --rows subset   1,000,000 rows (default)   --rows full   22,400,000 rows (~0.8 GB of CSV)
#   --submission    returns with SPEC 2.3's status, submitted_by, submitted_on columns
#                   (benches/data/subset-sub or national-sub, made by gen.py --submission)
#   --runs N        timed runs per tool (default 5); the table shows the median wall time
#   --timeout S     give up on a tool after S seconds (shown as "timed out"; default: none)
#   --pmf PATH      an already built pmf binary (default: cargo build --release in this checkout)
#   --floor PATH    an already built floor binary (default: cargo build --release --bench floor)
#   --base PATH     also time this pmf binary (an earlier build) as base-validate and base-report,
#                   interleaved with the rest, for before/after ratios measured in the same run
#   --tools LIST    comma-separated subset of: floor,pmf-validate,pmf-report,base-validate,
#                   base-report,polars-validate,
#                   polars-report,duckdb-validate,duckdb-report,pandas-validate,pandas-report
#
# It makes benches/.venv and pip-installs benches/requirements.txt, generates benches/data/ if it
# is absent, builds pmf and the floor in release, runs every tool N times under GNU time
# (wall seconds and peak RSS) and prints a markdown table, also saved in benches/results/.
# A tool whose command fails is skipped and marked so in the table. Not part of CI.
set -euo pipefail

ROWS=subset RUNS=5 PMF_BIN="" BASE_BIN="" TOOLS="" TIMEOUT="" SUBMISSION="" FLOOR_BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) ROWS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --pmf) PMF_BIN="$2"; shift 2 ;;
    --tools) TOOLS="$2"; shift 2 ;;
    --base) BASE_BIN="$2"; shift 2 ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    --submission) SUBMISSION=1; shift ;;
    --floor) FLOOR_BIN="$2"; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$ROWS" in subset) SET=subset GEN=subset ;; full) SET=national GEN=full ;;
  *) echo "--rows must be subset or full" >&2; exit 2 ;; esac
# --submission: the same rows with status, submitted_by, submitted_on, in their own folders
SFX="" GENFLAGS=""
[ -n "$SUBMISSION" ] && SFX="-sub" GENFLAGS="--submission"
SET="$SET$SFX"

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="$HERE/.venv"
PY="$VENV/bin/python"
DATA="$HERE/data/$SET"
OUT="$HERE/results"
SCRATCH="$OUT/scratch"
mkdir -p "$OUT" "$SCRATCH"
say() { printf '== %s\n' "$*" >&2; }

# 1. GNU time
if [ ! -x /usr/bin/time ]; then
  say "installing GNU time"
  if [ "$(id -u)" = 0 ]; then apt-get install -y time >/dev/null; else sudo apt-get install -y time >/dev/null; fi
fi

# 2. the peers' virtualenv
if [ ! -x "$PY" ] || ! cmp -s "$HERE/requirements.txt" "$VENV/.requirements"; then
  say "creating $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
  cp "$HERE/requirements.txt" "$VENV/.requirements"
fi

# 3. data
if [ ! -f "$DATA/pmf.yaml" ] || [ -z "$(ls "$DATA/returns/"*.csv 2>/dev/null)" ]; then
  say "generating $DATA"
  /usr/bin/time -f 'generated in %e s' "$PY" "$HERE/gen.py" --only "$GEN" $GENFLAGS
fi

# 4. builds: the floor (a [[bench]] target) and pmf
FLOOR="$FLOOR_BIN"
[ -z "$FLOOR" ] && say "building the floor"
if [ -n "$FLOOR" ]; then :
elif cargo build --release --bench floor --message-format=json-render-diagnostics >"$SCRATCH/floor-build.json" 2>"$SCRATCH/floor-build.log"; then
  FLOOR="$("$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "floor" and m.get("executable"):
        print(m["executable"])' "$SCRATCH/floor-build.json" | tail -1)"
fi
if [ -z "$FLOOR" ]; then
  # the crate itself does not build (work in progress?): build floor.rs alone against the same csv crate
  say "the crate does not build (see $SCRATCH/floor-build.log); building the floor standalone"
  SA="$CARGO_TARGET_DIR/floor-standalone"
  mkdir -p "$SA"
  cp "$ROOT/Cargo.lock" "$SA/Cargo.lock"
  cat >"$SA/Cargo.toml" <<TOML
[package]
name = "floor"
version = "0.0.0"
edition = "2021"
[[bin]]
name = "floor"
path = "$HERE/floor.rs"
[dependencies]
csv = "1.4"
[profile.release]
codegen-units = 4
TOML
  cargo build --release --manifest-path "$SA/Cargo.toml" >>"$SCRATCH/floor-build.log" 2>&1 && FLOOR="$CARGO_TARGET_DIR/release/floor"
fi
if [ -z "$PMF_BIN" ]; then
  say "building pmf"
  if cargo build --release --bin pmf >"$SCRATCH/pmf-build.log" 2>&1; then PMF_BIN="$CARGO_TARGET_DIR/release/pmf"
  else say "pmf does not build (see $SCRATCH/pmf-build.log)"; PMF_BIN="/nonexistent/pmf"; fi
fi

# 5. the tools. pmf's report goes to a scratch file, not /dev/null: pmf writes its output atomically
# (a temporary file renamed into place), and renaming over /dev/null would replace the device.
Y=2024/25
F="$DATA/pmf.yaml" R="$DATA/returns"
P="$HERE/peers"
declare -a NAMES CMDS OKCODES OUTS
# add NAME "ACCEPTED EXIT CODES" OUTPUT-FILE COMMAND: a run counts when it exits with an accepted code
# and leaves a non-empty output file (a stub pmf that does nothing is not timed as a success)
add() { NAMES+=("$1"); OKCODES+=("$2"); OUTS+=("$3"); CMDS+=("$4"); }
add floor            "0"   "$SCRATCH/floor.out" "'$FLOOR' '$R' > '$SCRATCH/floor.out'"
add pmf-validate     "0 1" "$SCRATCH/pmf-validate.csv" "'$PMF_BIN' validate -f '$F' -r '$R' --format csv > '$SCRATCH/pmf-validate.csv'"
add pmf-report       "0 1" "$SCRATCH/pmf-report.csv" "'$PMF_BIN' report -f '$F' -r '$R' --quarter Q4 --year $Y --format csv --skip-invalid -o '$SCRATCH/pmf-report.csv'"
if [ -n "$BASE_BIN" ]; then
  add base-validate  "0 1" "$SCRATCH/base-validate.csv" "'$BASE_BIN' validate -f '$F' -r '$R' --format csv > '$SCRATCH/base-validate.csv'"
  add base-report    "0 1" "$SCRATCH/base-report.csv" "'$BASE_BIN' report -f '$F' -r '$R' --quarter Q4 --year $Y --format csv --skip-invalid -o '$SCRATCH/base-report.csv'"
fi
for peer in polars duckdb pandas; do
  add "$peer-validate" "0" "$SCRATCH/$peer-validate.csv" "'$PY' '$P/${peer}_peer.py' validate -f '$F' -r '$R' -o '$SCRATCH/$peer-validate.csv'"
  add "$peer-report"   "0" "$SCRATCH/$peer-report.csv" "'$PY' '$P/${peer}_peer.py' report -f '$F' -r '$R' --quarter Q4 --year $Y -o '$SCRATCH/$peer-report.csv'"
done

ROWCOUNT="$("$FLOOR" "$R" 2>/dev/null | awk '{print $2}')" || ROWCOUNT="?"   # also warms the page cache
say "data: $DATA ($ROWCOUNT rows); $RUNS runs per tool"

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print ""; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
declare -A WALL MEM NOTE
selected() { [ -z "$TOOLS" ] || [[ ",$TOOLS," == *",$1,"* ]]; }
LOAD0="$(cut -d' ' -f1-3 /proc/loadavg)"
# runs are interleaved (run 1 of every tool, then run 2...) so that a noisy neighbour hurts all alike
for run in $(seq 1 "$RUNS"); do
  for i in "${!NAMES[@]}"; do
    name="${NAMES[$i]}"
    selected "$name" || continue
    [ -n "${NOTE[$name]:-}" ] && continue
    [ "$run" = 1 ] && : >"$SCRATCH/$name.times"
    rm -f "${OUTS[$i]}"
    set +e
    /usr/bin/time -f '%e %M' -o "$SCRATCH/$name.time1" ${TIMEOUT:+timeout "$TIMEOUT"} bash -c "${CMDS[$i]}" 2>"$SCRATCH/$name.stderr" >/dev/null
    rc=$?
    if [ -n "$TIMEOUT" ] && [ "$rc" = 124 ]; then
      NOTE[$name]="timed out after $TIMEOUT s (peak $(tail -1 "$SCRATCH/$name.time1" | awk '{printf "%.0f", $2 / 1024}') MB)"
      say "$name run $run: ${NOTE[$name]}"
      continue
    fi
    set -e
    if [[ " ${OKCODES[$i]} " != *" $rc "* ]] || [ ! -s "${OUTS[$i]}" ]; then
      why="$( (grep -v "^Command exited" "$SCRATCH/$name.stderr" || true) | tail -1 | tr "|" "/" | cut -c1-70)"
      [ -s "${OUTS[$i]}" ] || why="no output${why:+: $why}"
      NOTE[$name]="skipped (exit $rc, $why)"
      say "$name run $run failed: ${NOTE[$name]}"
      continue
    fi
    tail -1 "$SCRATCH/$name.time1" >>"$SCRATCH/$name.times"
    say "$name run $run: $(tail -1 "$SCRATCH/$name.time1") (s, KB)"
  done
done
for name in "${NAMES[@]}"; do
  selected "$name" || continue
  if [ -z "${NOTE[$name]:-}" ]; then
    WALL[$name]="$(awk '{print $1}' "$SCRATCH/$name.times" | median)"
    MEM[$name]="$(awk '{print $2}' "$SCRATCH/$name.times" | sort -g | tail -1)"
  fi
done
LOAD1="$(cut -d' ' -f1-3 /proc/loadavg)"

# 6. the table
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
TABLE="$OUT/$ROWS$SFX-$STAMP.md"
FW="${WALL[floor]:-}"
{
  echo "pmf benchmark, $ROWS$SFX data ($ROWCOUNT rows), median of $RUNS runs, $(nproc) cores, $(date -u +%F)," \
       "load average before $LOAD0, after $LOAD1; peak MB is the largest peak RSS of the runs"
  echo
  echo "| tool | rows | wall s (median of $RUNS) | x floor | peak MB |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  for i in "${!NAMES[@]}"; do
    name="${NAMES[$i]}"
    selected "$name" || continue
    if [ -n "${NOTE[$name]:-}" ]; then
      echo "| $name | $ROWCOUNT | ${NOTE[$name]} | | |"
      continue
    fi
    w="${WALL[$name]}"
    ratio=""; [ -n "$FW" ] && ratio="$(awk -v a="$w" -v b="$FW" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }')"
    echo "| $name | $ROWCOUNT | $w | $ratio | $(awk -v k="${MEM[$name]}" 'BEGIN { printf "%.0f", k / 1024 }') |"
  done
} | tee "$TABLE"
echo >&2
say "saved $TABLE; outputs and logs in $SCRATCH"
