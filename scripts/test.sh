#!/usr/bin/env bash
# The whole test suite, with what it needs: DuckDB and psycopg (PyPI, in a virtual environment)
# and a PostgreSQL server on loopback for the `segl sql` comparison tests (scripts/test-env.sh),
# then `cargo test`. Arguments go to `cargo test`, e.g. `bash scripts/test.sh sql`.
set -euo pipefail

cd "$(dirname "$0")/.."
export SEGL_SQL_VENV="${SEGL_SQL_VENV:-${CARGO_TARGET_DIR:-target}/sql-venv}"
# Not `eval "$(...)"`: the status of a command substitution inside `eval` is lost, so a failed
# setup would go unnoticed under `set -e`. An assignment keeps it.
env=$(bash scripts/test-env.sh)
eval "$env"
cargo test "$@"
