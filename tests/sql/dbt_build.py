#!/usr/bin/env python3
"""Runs the dbt models written by `segl sql --dbt` with dbt-duckdb over the example data.

    dbt_build.py DBT TABLES_JSON FRAGMENT_DIR WORK_DIR

DBT is the `dbt` executable (with the dbt-duckdb adapter). TABLES_JSON is what
`segl sql --dialect duckdb --create-tables --format json` prints for the project: its tables are
created and filled from its data files in a DuckDB database in WORK_DIR (by tests/sql/run.py's
loader); a minimal dbt project in
WORK_DIR/project gets FRAGMENT_DIR/models/segl as its models folder and a DuckDB profile over
that database; `dbt build` runs every model and every test of schema.yml and sources.yml. Then
each `ENTITY_membership` table is written to WORK_DIR/ENTITY.csv (booleans as true/false,
unknown as an empty cell), ordered by key, and the number of models and tests that passed is
printed.
"""

import csv
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (tests/sql/run.py: the data loader)

PROJECT = """name: segl_check
version: "1.0"
config-version: 2
profile: segl_check
model-paths: ["models"]
"""

PROFILE = """segl_check:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{db}"
      schema: main
      threads: 2
"""


def main():
    dbt, tables_json, fragment, work = sys.argv[1:5]
    with open(tables_json, encoding="utf-8") as f:
        tables = json.load(f)
    work = os.path.abspath(work)
    db_path = os.path.join(work, "segl.duckdb")
    import duckdb
    conn = duckdb.connect(db_path)
    try:
        run.load("duckdb", conn, tables)
    finally:
        conn.close()

    project = os.path.join(work, "project")
    os.makedirs(os.path.join(project, "models"), exist_ok=True)
    shutil.copytree(os.path.join(fragment, "models", "segl"),
                    os.path.join(project, "models", "segl"))
    with open(os.path.join(project, "dbt_project.yml"), "w", encoding="utf-8") as f:
        f.write(PROJECT)
    with open(os.path.join(project, "profiles.yml"), "w", encoding="utf-8") as f:
        f.write(PROFILE.format(db=db_path))

    env = dict(os.environ, DBT_SEND_ANONYMOUS_USAGE_STATS="false", DO_NOT_TRACK="1")
    done = subprocess.run(
        [dbt, "build", "--project-dir", project, "--profiles-dir", project,
         "--log-path", os.path.join(work, "logs"), "--target-path",
         os.path.join(work, "target"), "--no-partial-parse", "--no-use-colors"],
        env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"dbt build failed with exit code {done.returncode}")
    with open(os.path.join(work, "target", "run_results.json"), encoding="utf-8") as f:
        results = json.load(f)["results"]
    counts = {}
    for r in results:
        kind = r["unique_id"].split(".")[0]
        counts[(kind, r["status"])] = counts.get((kind, r["status"]), 0) + 1
    print(json.dumps({f"{k} {s}": n for (k, s), n in sorted(counts.items())}))

    conn = duckdb.connect(db_path, read_only=True)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_name LIKE '%\\_membership' ESCAPE '\\' ORDER BY 1").fetchall()]
        for table in tables:
            entity = table[: -len("_membership")]
            cur = conn.execute(f"SELECT * FROM {run.quote(table)} ORDER BY 1")
            names = [d[0] for d in cur.description]
            with open(os.path.join(work, f"{entity}.csv"), "w", newline="",
                      encoding="utf-8") as out:
                w = csv.writer(out, lineterminator="\n")
                w.writerow(names)
                for row in cur.fetchall():
                    w.writerow(["" if v is None else run.text(v) for v in row])
    finally:
        conn.close()


if __name__ == "__main__":
    main()
