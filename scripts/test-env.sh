#!/usr/bin/env bash
# Prepares the SQL engines the `sql` integration tests run segl's SQL on, and prints the
# environment the tests read. Used by `.ci/run` and by developers:
#
#   env=$(bash scripts/test-env.sh) && eval "$env" && cargo test --test it sql
#
# (`eval "$(bash scripts/test-env.sh)"` works too when the setup succeeds, but hides a failed
# setup: `eval` of an empty text succeeds.)
#
# - DuckDB and psycopg (PostgreSQL driver), sqlglot (the SQL parser that checks the BigQuery and
#   Snowflake output), dbt-duckdb (runs `segl sql --dbt` output), and Polars, pandas and pyarrow
#   for the benchmark's smoke test (bench/compare/smoke.sh), from PyPI, in a virtual environment
#   under ${SEGL_SQL_VENV:-$HOME/.cache/segl/sql-venv}; SQLite is Python's built-in `sqlite3`.
# - Chromium (Debian's `chromium` package, installed with apt-get when missing and allowed) for
#   the test that renders `segl report`'s page headless.
# - A throwaway PostgreSQL server (Debian's `postgresql` package; installed with apt-get when
#   missing and allowed) on 127.0.0.1:${SEGL_PG_PORT:-54329}, data in a temporary directory,
#   run as the `postgres` user when started by root.
set -euo pipefail

venv="${SEGL_SQL_VENV:-$HOME/.cache/segl/sql-venv}"
# Absolute, so tests that run Python in another folder find it.
venv=$(realpath -m "$venv")
port="${SEGL_PG_PORT:-54329}"

if ! "$venv/bin/python" -c 'import duckdb, psycopg, sqlglot, polars, pandas, pyarrow' 2>/dev/null \
    || [ ! -x "$venv/bin/dbt" ]; then
    python3 -m venv "$venv" >&2
    # dbt-core is held below 1.11: later versions download a parser from GitHub while installing.
    "$venv/bin/pip" install --quiet duckdb 'psycopg[binary]' sqlglot polars pandas pyarrow \
        'dbt-duckdb>=1.9,<1.12' 'dbt-core>=1.10,<1.11' >&2
fi

# Debian packages: PostgreSQL for the SQL comparisons, Chromium for the report test (it renders
# the page headless).
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
missing=()
[ -z "$pg_bin" ] && missing+=(postgresql)
command -v chromium >/dev/null || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    # A fresh machine may have no package lists yet.
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
if [ -z "$pg_bin" ]; then
    echo "scripts/test-env.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2
    exit 1
fi

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if ! "$venv/bin/python" -c "import psycopg; psycopg.connect('host=127.0.0.1 port=$port user=postgres dbname=postgres').close()" 2>/dev/null; then
    data=$(mktemp -d /tmp/segl-pg.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres "$data"
    as_pg "$pg_bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >&2
    as_pg "$pg_bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $data" start >&2
fi

echo "export SEGL_SQL_PYTHON='$venv/bin/python'"
echo "export SEGL_PG_DSN='host=127.0.0.1 port=$port user=postgres dbname=postgres'"
