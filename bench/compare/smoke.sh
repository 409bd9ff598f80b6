#!/usr/bin/env bash
# CI's smoke test of the side-by-side benchmark (`.ci/run`): every workload on every tool, once,
# on 3,000 customers in Parquet and in CSV, with the segl binary the tests built (debug) and the
# Python environment of scripts/test-env.sh. Fails when any tool finds other members than segl,
# or when a run fails. The numbers mean nothing at this size and in a debug build.
#
#   bash bench/compare/smoke.sh
set -euo pipefail
COMPARE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$COMPARE/../.." && pwd)
cd "$REPO"

target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$REPO/$target ;; esac
export SEGL=${SEGL:-$target/debug/segl}
if [ ! -x "$SEGL" ]; then
    cargo build --quiet
fi
export SEGL_SQL_VENV="${SEGL_SQL_VENV:-${CARGO_TARGET_DIR:-target}/sql-venv}"
eval "$(bash scripts/test-env.sh)"
export PYTHON=$SEGL_SQL_PYTHON
export WORK
WORK=$(mktemp -d /tmp/segl-compare-smoke.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export REPS=1 WORKLOADS="w1 w2 w3 w4"

for format in parquet csv; do
    bash "$COMPARE/run.sh" 3000 "$format"
done

# The comparison must be able to fail: take one member out of a segment in DuckDB's result and
# expect compare.py to report it.
res=$WORK/results-3000-csv
"$PYTHON" - "$res/out/w1/duckdb.parquet" <<'EOF'
import sys
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
path = sys.argv[1]
t = pq.read_table(path)
col = t.column("promoters")
first = pc.index(col, True).as_py()
flipped = pa.array([False if i == first else v for i, v in enumerate(col.to_pylist())])
pq.write_table(t.set_column(t.schema.get_field_index("promoters"), "promoters", flipped), path)
EOF
if "$PYTHON" "$COMPARE/drivers/compare.py" "$res" "tampered" >"$WORK/tampered.md"; then
    echo "compare.py did not notice a member missing from DuckDB's result" >&2
    exit 1
fi
grep -q "w1 / duckdb / customer.promoters" "$WORK/tampered.md"
echo "smoke: every tool found the same members as segl (and a tampered result is caught)"
