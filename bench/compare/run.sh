#!/usr/bin/env bash
# Runs the side-by-side benchmark: each workload on segl, DuckDB (hand-written SQL and the SQL of
# `segl sql --dialect duckdb`), Polars and pandas, each tool as a process of its own, REPS times,
# with the same number of threads; then checks that every tool found the same members as segl.
#
#   bash bench/compare/run.sh [N] [FORMAT]      # default: 20000 parquet
#   bash bench/compare/run.sh 1000000 parquet
#   REPS=1 WORKLOADS="w1 w3" TOOLS="segl duckdb" bash bench/compare/run.sh 20000 csv
#
# Environment (see also lib.sh: WORK, SEGL, CARGO_TARGET_DIR):
#   REPS=3            runs per tool and workload (the table shows medians)
#   BENCH_THREADS=2   threads per tool (DuckDB `SET threads`, POLARS_MAX_THREADS, pyarrow; segl
#                     uses the CPUs it may run on, so on a machine with more CPUs every tool runs
#                     under `taskset` on the first BENCH_THREADS of them)
#   WORKLOADS="w1 w2 w3 w4 check"    which workloads (check: `segl check` of 10,000 segments)
#   TOOLS="segl duckdb duckdb-segl-sql polars pandas"
#   PYTHON            a Python with duckdb, polars, pandas and pyarrow; default: a virtual
#                     environment in $WORK/venv, made (from PyPI) when missing
#   TIMEOUT=1800      seconds after which one run is stopped
#
# Results: $WORK/results-N-FORMAT/results.md (the table, also printed), results.json (the same,
# machine-readable, with every membership difference), runs.jsonl (every run), logs/ and out/
# (each tool's membership files). Exit code 1 when a tool disagrees with segl or a run failed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=${1:-20000}
FORMAT=${2:-parquet}
REPS=${REPS:-3}
export BENCH_THREADS=${BENCH_THREADS:-2}
WORKLOADS=${WORKLOADS:-"w1 w2 w3 w4 check"}
TOOLS=${TOOLS:-"segl duckdb duckdb-segl-sql polars pandas"}
TIMEOUT=${TIMEOUT:-1800}
case $FORMAT in parquet | csv) ;; *) echo "FORMAT must be parquet or csv" >&2; exit 2 ;; esac

if [ ! -x /usr/bin/time ]; then
    echo "installing GNU time" >&2
    apt-get install -y -q time >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q time >/dev/null; }
fi

# Python with the other tools.
if [ -z "${PYTHON:-}" ]; then
    PYTHON=$WORK/venv/bin/python
    if ! "$PYTHON" -c 'import duckdb, polars, pandas, pyarrow' 2>/dev/null; then
        echo "installing duckdb, polars, pandas, pyarrow into $WORK/venv" >&2
        python3 -m venv "$WORK/venv"
        "$WORK/venv/bin/pip" install --quiet duckdb polars pandas pyarrow >&2
    fi
fi

ensure_segl
DATA=$(ensure_data "$N" "$FORMAT")
RES=$WORK/results-$N-$FORMAT
rm -rf "$RES"
mkdir -p "$RES/logs" "$RES/out" "$RES/projects" "$RES/sql"
RUNS=$RES/runs.jsonl
: >"$RUNS"

# Every tool runs on the same CPUs: on a bigger machine, the first BENCH_THREADS of them.
PIN=()
if [ "$(nproc)" -gt "$BENCH_THREADS" ] && command -v taskset >/dev/null; then
    PIN=(taskset -c "0-$((BENCH_THREADS - 1))")
fi

workload_dir() {
    case $1 in
        w1) echo "$COMPARE/w1-row-level" ;;
        w2) echo "$COMPARE/w2-behavioural" ;;
        w3) echo "$COMPARE/w3-population" ;;
        w4) echo "$REPO/rules" ;;
        *) echo "unknown workload $1" >&2; exit 2 ;;
    esac
}

# Where a workload's hand-written versions are (duckdb.sql, polars_impl.py, pandas_impl.py): next
# to its segl project, except for W4, whose project is rules/ itself.
impl_dir() {
    case $1 in
        w4) echo "$COMPARE/w4-project" ;;
        *) workload_dir "$1" ;;
    esac
}

# A copy of a workload's project whose [data] names the generated files of the entities the
# committed segl.toml names (W4, the example project: all five).
project_copy() { # WORKLOAD -> prints the copy's folder
    local src dst entity file
    src=$(workload_dir "$1")
    dst=$RES/projects/$1
    mkdir -p "$dst"
    cp "$src"/*.segl "$dst"/
    sed '/^\[data\]/,$d' "$src/segl.toml" >"$dst/segl.toml"
    echo "[data]" >>"$dst/segl.toml"
    for entity in $(sed -n '/^\[data\]/,$p' "$src/segl.toml" | sed -n 's/^\([a-z_]*\) *=.*/\1/p'); do
        case $entity in company) file=companies ;; *) file=${entity}s ;; esac
        echo "$entity = \"$DATA/$file.$FORMAT\"" >>"$dst/segl.toml"
    done
    echo "$dst"
}

# One measured run: WORKLOAD TOOL REP, then the command.
measure() {
    local workload=$1 tool=$2 rep=$3
    shift 3
    local log=$RES/logs/$workload.$tool.$rep rc=0
    rm -f "$log.timing.json"
    /usr/bin/time -v -o "$log.time" timeout "$TIMEOUT" "${PIN[@]}" "$@" \
        >"$log.out" 2>"$log.err" || rc=$?
    "$PYTHON" "$COMPARE/drivers/record.py" "$RUNS" "$workload" "$tool" "$rep" "$rc" \
        "$log.time" "$log.timing.json" "$log.out"
    printf '  %-6s %-16s run %s: exit %s, %s\n' "$workload" "$tool" "$rep" "$rc" \
        "$(awk -F': ' '/Elapsed \(wall clock\)/ {w=$2} /Maximum resident/ {r=$2} END {printf "wall %s, peak RSS %d MiB", w, r/1024}' "$log.time")"
    if [ "$rc" != 0 ] && ! { [ "$workload" = check ] && [ "$rc" = 4 ]; }; then
        head -c 1500 "$log.err" | sed 's/^/    stderr: /'
    fi
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== side-by-side benchmark: $N customers, $FORMAT, $REPS runs, $BENCH_THREADS threads"
echo "   $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   $("$SEGL" --version), $("$PYTHON" -c 'import duckdb, polars, pandas; print("duckdb", duckdb.__version__, "polars", polars.__version__, "pandas", pandas.__version__)')"
echo "   data: $DATA ($(du -sh "$DATA" | cut -f1))"

for w in $WORKLOADS; do
    if [ "$w" = check ]; then
        # `segl check` of 10,000 generated segments (bench/check), rules only.
        python3 "$REPO/bench/check/generate.py" "$RES/projects/check" --segments 10000 >/dev/null
        for rep in $(seq "$REPS"); do
            measure check segl "$rep" "$SEGL" check --format plain "$RES/projects/check"
        done
        continue
    fi
    proj=$(project_copy "$w")
    wdir=$(impl_dir "$w")
    out=$RES/out/$w
    mkdir -p "$out"
    if [[ " $TOOLS " == *" duckdb-segl-sql "* ]]; then
        "$SEGL" sql --dialect duckdb "$proj" >"$RES/sql/$w.sql"
    fi
    for rep in $(seq "$REPS"); do
        for tool in $TOOLS; do
            log=$RES/logs/$w.$tool.$rep
            case $tool in
                segl)
                    measure "$w" segl "$rep" "$SEGL" run "$proj" --color never \
                        --out "$out/segl.parquet" ;;
                duckdb | polars | pandas)
                    measure "$w" "$tool" "$rep" "$PYTHON" "$COMPARE/drivers/run_tool.py" "$tool" \
                        "$wdir" "$DATA" "$FORMAT" "$out/$tool" "$log.timing.json" ;;
                duckdb-segl-sql)
                    measure "$w" "$tool" "$rep" "$PYTHON" "$COMPARE/drivers/run_tool.py" duckdb \
                        "$wdir" "$DATA" "$FORMAT" "$out/$tool" "$log.timing.json" \
                        "$RES/sql/$w.sql" ;;
                *) echo "unknown tool $tool" >&2; exit 2 ;;
            esac
        done
    done
done

echo
title="$N customers, $FORMAT, $BENCH_THREADS threads, median of $REPS runs ($(date -u +%Y-%m-%d), load average at the start: $LOAD_BEFORE)"
"$PYTHON" "$COMPARE/drivers/compare.py" "$RES" "$title"
