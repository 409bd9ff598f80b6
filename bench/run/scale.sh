#!/usr/bin/env bash
# Measures `segl run` on the example project `rules/` over generated data of N customers.
#
#   bash bench/run/scale.sh [N] [FORMAT]          # default: 1000000 parquet
#   bash bench/run/scale.sh 1000000 csv
#   bash bench/run/scale.sh 5000000 parquet
#
# Environment:
#   WORK=/tmp/segl-scale   where data, projects and logs go (never inside the repository)
#   SKIP_BUILD=1           use the existing release binary
#   TIMEOUT=600            seconds after which each segl command is stopped
#   MAX_RSS_MIB=18000      the full run is stopped when its RSS passes this (the machine has
#                          24 GiB shared with others; an out-of-memory kill could hit them)
#   PARTS="check load single full"   which measurements to take (see bench/run/README.md)
#
# For each measurement it prints wall time, user+system CPU time and peak RSS (from
# `/usr/bin/time -v`), and for the full run a memory timeline (RSS sampled every 0.5 s) so the
# peak can be placed in loading or in evaluating.
set -euo pipefail

N=${1:-1000000}
FORMAT=${2:-parquet}
WORK=${WORK:-/tmp/segl-scale}
TIMEOUT=${TIMEOUT:-600}
MAX_RSS_MIB=${MAX_RSS_MIB:-18000}
PARTS=${PARTS:-"check load single full"}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-shared}
SEGL=$WORK/segl   # a private copy: other worktrees rebuild the shared target folder

case $FORMAT in
  parquet | csv | ndjson) ;;
  *) echo "FORMAT must be parquet, csv or ndjson" >&2; exit 2 ;;
esac
ext=$FORMAT
if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time" >&2
  apt-get install -y time >/dev/null
fi

mkdir -p "$WORK"
if [ -z "${SKIP_BUILD:-}" ] || [ ! -x "$SEGL" ]; then
  (cd "$REPO" && cargo build --release --quiet && cp "$CARGO_TARGET_DIR/release/segl" "$SEGL")
fi

DATA=$WORK/data-$N-$FORMAT
LOGS=$WORK/logs-$N-$FORMAT
mkdir -p "$LOGS"

# One measured command: NAME, then the command. Prints one line and keeps the logs.
measure() {
  local name=$1; shift
  local out=$LOGS/$name.out err=$LOGS/$name.err tv=$LOGS/$name.time
  local rc=0
  /usr/bin/time -v -o "$tv" timeout "$TIMEOUT" "$@" >"$out" 2>"$err" || rc=$?
  local wall user sys rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tv")
  user=$(awk -F': ' '/User time/ {print $2}' "$tv")
  sys=$(awk -F': ' '/System time/ {print $2}' "$tv")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$tv")
  printf '%-28s exit %-3s wall %-9s cpu %6.1f s  peak RSS %6s MiB\n' \
    "$name" "$rc" "$wall" "$(echo "$user + $sys" | bc)" "$rss"
  if [ "$rc" = 124 ]; then echo "  stopped after ${TIMEOUT}s" ; fi
  if [ "$rc" != 0 ] && [ "$rc" != 4 ]; then head -c 2000 "$err" | sed 's/^/  stderr: /'; fi
  return 0
}

echo "== segl run at scale: $N customers, $FORMAT ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"

# 1. Data (generated once per N and format, reused afterwards).
if [ ! -f "$DATA/.complete" ]; then
  rm -rf "$DATA"
  measure generate "$SEGL" generate --customers "$N" --seed 1 --format "$FORMAT" --out "$DATA"
  touch "$DATA/.complete"
fi
echo "data in $DATA:"
for f in customers orders companies tickets events; do
  printf '  %-10s %6s MiB\n' "$f" "$(du -m "$DATA/$f.$ext" | cut -f1)"
done
printf '  %-10s %6s MiB\n' total "$(du -cm "$DATA"/*."$ext" | tail -1 | cut -f1)"

# 2. A copy of rules/ whose [data] names the generated files.
project() { # DIR ENTITIES...: a project reading only the given entities' data
  local dir=$1; shift
  rm -rf "$dir"; mkdir -p "$dir"
  cp "$REPO"/rules/*.segl "$dir"/
  sed '/^\[data\]/,$d' "$REPO/rules/segl.toml" >"$dir/segl.toml"
  echo "[data]" >>"$dir/segl.toml"
  local e file
  for e in "$@"; do
    case $e in company) file=companies ;; *) file=${e}s ;; esac
    echo "$e = \"$DATA/$file.$ext\"" >>"$dir/segl.toml"
  done
}
PROJ=$WORK/project-$N-$FORMAT
project "$PROJ" customer order company ticket event

# A memory timeline of a running command: RSS every 0.5 s to FILE.
sample_rss() { # PID FILE
  local pid=$1 file=$2 t=0
  : >"$file"
  while kill -0 "$pid" 2>/dev/null; do
    local child
    child=$(pgrep -f "^$SEGL run $PROJ\$" -n 2>/dev/null || true)
    if [ -n "$child" ] && [ -r "/proc/$child/status" ]; then
      local rss
      rss=$(awk '/VmRSS/ {printf "%d", $2/1024}' "/proc/$child/status" 2>/dev/null || true)
      if [ -n "$rss" ]; then
        echo "$t $rss" >>"$file"
        if [ "$rss" -gt "$MAX_RSS_MIB" ]; then
          echo "stopped: RSS $rss MiB > MAX_RSS_MIB=$MAX_RSS_MIB after $t s" >>"$file.stopped"
          kill "$child" 2>/dev/null || true
        fi
      fi
    fi
    sleep 0.5
    t=$(echo "$t + 0.5" | bc)
  done
}

for part in $PARTS; do
  case $part in
    check)
      # Rules only: no data is read.
      measure check "$SEGL" check "$PROJ"
      ;;
    load)
      # Loading and validating all five files, then one segment on customer fields only:
      # about the cost of loading.
      measure load+dach_customers "$SEGL" run "$PROJ" --segment dach_customers
      # Loading each file alone (with a project naming only that file's data; the segments
      # evaluated need only customers, so for the others the run stops with "no data" after
      # loading, which is what is measured).
      for e in customer order event; do
        project "$WORK/project-$N-$FORMAT-$e" "$e"
        measure "load-only-$e" "$SEGL" run "$WORK/project-$N-$FORMAT-$e" --segment dach_customers
      done
      ;;
    single)
      # One segment at a time, each with the full load: the difference to load+dach_customers is
      # the cost of that segment's plan.
      for s in frequent_buyers api_power_users rfm_class; do
        measure "load+$s" "$SEGL" run "$PROJ" --segment "$s"
      done
      ;;
    full)
      /usr/bin/time -v -o "$LOGS/full.time" timeout "$TIMEOUT" \
        "$SEGL" run "$PROJ" >"$LOGS/full.out" 2>"$LOGS/full.err" &
      bg=$!
      rm -f "$LOGS/full.rss.stopped"
      sample_rss "$bg" "$LOGS/full.rss" &
      sampler=$!
      rc=0; wait "$bg" || rc=$?
      wait "$sampler" || true
      wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$LOGS/full.time")
      user=$(awk -F': ' '/User time/ {print $2}' "$LOGS/full.time")
      sys=$(awk -F': ' '/System time/ {print $2}' "$LOGS/full.time")
      rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$LOGS/full.time")
      printf '%-28s exit %-3s wall %-9s cpu %6.1f s  peak RSS %6s MiB\n' \
        "full run (all rules)" "$rc" "$wall" "$(echo "$user + $sys" | bc)" "$rss"
      if [ "$rc" = 124 ]; then echo "  stopped after ${TIMEOUT}s"; fi
      if [ -f "$LOGS/full.rss.stopped" ]; then sed 's/^/  /' "$LOGS/full.rss.stopped"; fi
      if [ "$rc" != 0 ] && [ "$rc" != 4 ]; then head -c 2000 "$LOGS/full.err" | sed 's/^/  stderr: /'; fi
      grep -E '^(data:|done in)' "$LOGS/full.out" || true
      echo "  RSS timeline (seconds MiB), every 5 s:"
      awk 'NR % 10 == 1 {printf "    %s s %s MiB\n", $1, $2}' "$LOGS/full.rss"
      ;;
    *) echo "unknown part $part" >&2; exit 2 ;;
  esac
done
echo "logs in $LOGS"
