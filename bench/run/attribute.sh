#!/usr/bin/env bash
# Which rules cost the time and memory of a full `segl run`: runs the rules of one file of
# `rules/` at a time (`--segment` for each segment, tier set and score declared in it) over the
# data and project that `scale.sh` left behind, and prints wall time and peak RSS per file.
# Every run also loads all data, so compare each line with the `load+dach_customers` line of
# `scale.sh` (the cost of loading plus one trivial segment).
#
#   bash bench/run/attribute.sh [N] [FORMAT]      # default: 1000000 parquet
#   RULES="rfm value" bash bench/run/attribute.sh # only these files
#   EACH=1 RULES=rfm bash bench/run/attribute.sh  # every rule of these files on its own
set -euo pipefail

N=${1:-1000000}
FORMAT=${2:-parquet}
WORK=${WORK:-/tmp/segl-scale}
TIMEOUT=${TIMEOUT:-600}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SEGL=$WORK/segl
PROJ=$WORK/project-$N-$FORMAT
LOGS=$WORK/logs-$N-$FORMAT/attribute
if [ ! -x "$SEGL" ] || [ ! -f "$PROJ/segl.toml" ]; then
  echo "run bench/run/scale.sh $N $FORMAT first" >&2
  exit 2
fi
mkdir -p "$LOGS"

if [ -z "${RULES:-}" ]; then
  RULES=$(cd "$REPO/rules" && ls ./*.segl | sed 's|^\./||; s|\.segl$||')
fi

run_rules() { # LABEL NAMES...
  local label=$1; shift
  local args=() n
  for n in "$@"; do args+=(--segment "$n"); done
  local tv=$LOGS/$label.time rc=0
  /usr/bin/time -v -o "$tv" timeout "$TIMEOUT" "$SEGL" run "$PROJ" "${args[@]}" \
    >"$LOGS/$label.out" 2>"$LOGS/$label.err" || rc=$?
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tv")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$tv")
  printf '%-34s %3d rules  exit %-3s wall %-9s peak RSS %6s MiB\n' "$label" "$#" "$rc" "$wall" "$rss"
}

for file in $RULES; do
  names=$(grep -E '^(segment|tiers|score) [a-z_0-9]+' "$REPO/rules/$file.segl" |
    awk '{print $2}' || true)
  [ -z "$names" ] && continue
  if [ -n "${EACH:-}" ]; then
    for n in $names; do run_rules "$file.$n" "$n"; done
  else
    # shellcheck disable=SC2086
    run_rules "$file" $names
  fi
done
