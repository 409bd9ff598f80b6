#!/usr/bin/env bash
# Runs the SQL `segl sql --dialect spark` writes for the example project and the date-arithmetic
# fixture on a local Spark (with the as-of date written in and as a parameter) and compares every
# segment, tier and score with `segl run`, row by row. CI leaves this out for time
# (starting Spark takes about a minute); run it after changing the Spark spelling:
#
#   bash tests/sql/spark.sh
#
# - PySpark from PyPI, in a virtual environment under
#   ${SEGL_SPARK_VENV:-${CARGO_TARGET_DIR:-target}/spark-venv} (made on the first run).
# - The machine's Java 17 or later (JAVA_HOME, or the newest /usr/lib/jvm/java-17-*;
#   Debian: `apt-get install openjdk-17-jre-headless`).
# The Spark session's time zone is UTC; SEGL_SPARK_SESSION_TZ=Pacific/Kiritimati (say) checks that
# the SQL does not depend on it. Arguments go to `cargo test`.
set -euo pipefail

cd "$(dirname "$0")/../.."
venv="${SEGL_SPARK_VENV:-${CARGO_TARGET_DIR:-target}/spark-venv}"

if ! "$venv/bin/python" -c 'import pyspark' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet pyspark
fi

if [ -z "${JAVA_HOME:-}" ]; then
    JAVA_HOME=$(ls -d /usr/lib/jvm/java-17-* 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$JAVA_HOME" ] && ! command -v java >/dev/null; then
        echo "tests/sql/spark.sh: no Java found; install Java 17 (apt-get install openjdk-17-jre-headless) or set JAVA_HOME" >&2
        exit 1
    fi
    if [ -n "$JAVA_HOME" ]; then export JAVA_HOME; fi
fi

export SEGL_SPARK_PYTHON="$venv/bin/python"
export SEGL_SQL_ENGINES=spark
# The example project with a written date, the calendar edge cases (tests/fixtures/sql-run/dates)
# with written dates and the as-of parameter, the example project with the parameter, and the
# patterns whose meaning differs between engines (tests/fixtures/sql-engines/regex-meaning).
cargo test --test it "$@" -- --nocapture spark_computes_what_segl_run_computes \
    date_arithmetic_on_spark_is_what_segl_run_computes as_of_param_on_spark_gives_the_rows_of_the_date \
    patterns_on_spark_match_what_segl_run_matches
