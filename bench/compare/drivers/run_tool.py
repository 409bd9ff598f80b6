#!/usr/bin/env python3
"""Runs one workload on one tool, as one process, and writes its membership files.

    run_tool.py TOOL WORKLOAD_DIR DATA_DIR FORMAT OUT_PREFIX TIMING_FILE [SQL_FILE]

TOOL is `duckdb` (runs SQL_FILE, default WORKLOAD_DIR/duckdb.sql: hand-written, or the output
of `segl sql --dialect duckdb`), `polars` (WORKLOAD_DIR/polars_impl.py) or `pandas`
(WORKLOAD_DIR/pandas_impl.py). Each entity's membership (key `id`, one boolean column per
segment, one text column per tier set) goes to OUT_PREFIX.parquet (customers) or
OUT_PREFIX.ENTITY.parquet. TIMING_FILE gets one JSON object with the times measured inside the
process: `query_s` (DuckDB: from the first statement that reads data to the last file written,
CSV loading included; Polars, pandas: the same span, from the first read to the last write),
`load_s` (DuckDB with CSV: loading the files into tables) and `import_s` (importing the
library).

Threads: DuckDB `SET threads = N` and Polars' POLARS_MAX_THREADS come from BENCH_THREADS
(default 2); pyarrow's thread pools (pandas reads Parquet through pyarrow) are set to the same.
"""

import importlib.util
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402

THREADS = int(os.environ.get("BENCH_THREADS", "2"))


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def split_queries(script):
    """The membership queries of a script, by entity: each starts with a comment
    `-- Membership of each ENTITY record.` (the form `segl sql` writes; the hand-written
    scripts use it too)."""
    queries = {}
    for part in re.split(r"^(?=-- Membership of each )", script, flags=re.M):
        m = re.match(r"-- Membership of each (.+) record\.", part)
        if m:
            queries[m.group(1)] = part.strip().rstrip(";")
    if not queries:
        raise SystemExit("no `-- Membership of each ENTITY record.` query in the SQL file")
    return queries


def entities_used(script):
    return [e for e in common.SCHEMA if re.search(rf'\b(FROM|JOIN)\s+"?{e}"?\b', script,
                                                    flags=re.I)]


def run_duckdb(workload, data_dir, fmt, prefix, sql_file):
    t0 = time.perf_counter()
    import duckdb
    timing = {"import_s": time.perf_counter() - t0}
    with open(sql_file or os.path.join(workload, "duckdb.sql"), encoding="utf-8") as f:
        script = f.read()
    queries = split_queries(script)
    con = duckdb.connect(":memory:")
    con.execute(f"SET threads = {THREADS}")
    con.execute(f"SET TimeZone = '{common.TIME_ZONE}'")
    start = time.perf_counter()
    for entity in entities_used(script):
        source = common.duckdb_source(data_dir, fmt, entity)
        # Parquet is read where the query needs it (a view); CSV is parsed once into a table,
        # as one would, rather than once per reference.
        kind = "VIEW" if fmt == "parquet" else "TABLE"
        con.execute(f'CREATE {kind} "{entity}" AS {source}')
    timing["load_s"] = time.perf_counter() - start
    for entity, query in queries.items():
        target = common.out_file(prefix, entity).replace("'", "''")
        con.execute(f"COPY ({query}) TO '{target}' (FORMAT parquet)")
    timing["query_s"] = time.perf_counter() - start
    return timing


def run_polars(workload, data_dir, fmt, prefix):
    os.environ["POLARS_MAX_THREADS"] = str(THREADS)
    t0 = time.perf_counter()
    import polars as pl  # noqa: F401
    timing = {"import_s": time.perf_counter() - t0}
    impl = load_module(os.path.join(workload, "polars_impl.py"), "polars_impl")
    start = time.perf_counter()
    frames = impl.build(common.polars_scan(data_dir, fmt))
    for entity, lf in frames.items():
        lf.collect().write_parquet(common.out_file(prefix, entity))
    timing["query_s"] = time.perf_counter() - start
    return timing


def run_pandas(workload, data_dir, fmt, prefix):
    t0 = time.perf_counter()
    import pandas  # noqa: F401
    import pyarrow
    pyarrow.set_cpu_count(THREADS)
    pyarrow.set_io_thread_count(THREADS)
    timing = {"import_s": time.perf_counter() - t0}
    impl = load_module(os.path.join(workload, "pandas_impl.py"), "pandas_impl")
    start = time.perf_counter()
    frames = impl.compute(common.pandas_read(data_dir, fmt))
    for entity, df in frames.items():
        df.to_parquet(common.out_file(prefix, entity), index=False)
    timing["query_s"] = time.perf_counter() - start
    return timing


def main():
    if len(sys.argv) not in (7, 8):
        raise SystemExit(__doc__)
    tool, workload, data_dir, fmt, prefix, timing_file = sys.argv[1:7]
    sql_file = sys.argv[7] if len(sys.argv) == 8 else None
    if tool == "duckdb":
        timing = run_duckdb(workload, data_dir, fmt, prefix, sql_file)
    elif tool == "polars":
        timing = run_polars(workload, data_dir, fmt, prefix)
    elif tool == "pandas":
        timing = run_pandas(workload, data_dir, fmt, prefix)
    else:
        raise SystemExit(f"unknown tool {tool}")
    with open(timing_file, "w", encoding="utf-8") as f:
        json.dump(timing, f)


if __name__ == "__main__":
    main()
