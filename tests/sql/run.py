#!/usr/bin/env python3
"""Runs SQL written by `segl sql` on a real engine over the example project's data.

    run.py ENGINE DATA_DIR SQL_FILE OUT_DIR

ENGINE is duckdb, sqlite, postgres or spark (PostgreSQL: connection string in SEGL_PG_DSN; a
fresh schema is created and dropped. Spark: a local PySpark session in ANSI mode with the session
time zone UTC, the tables as temporary views). The CSV files of `rules/data` are loaded into one table per
entity with the column types segl expects (see docs/sql.md, "Tables"), the script's queries run,
and each entity's membership is written to OUT_DIR/ENTITY.csv (booleans as true/false, unknown as
an empty cell), in the query's row order.

With SEGL_SQL_QUOTING naming a JSON file (a list of one-row `SELECT <text> AS <name>` queries),
each query also runs and OUT_DIR/quoting.json gets, per query, [column name, value]: what the
engine read from segl's quoted identifier and literal.
"""

import csv
import datetime
import json
import os
import re
import sys

# The schema of rules/ (rules/schema.segl): entity -> (file, [(column, type)]).
# Types: text, int, decimal, date, timestamp, bool, list (text values joined with `|`).
SCHEMA = {
    "customer": ("customers.csv", [
        ("id", "text"), ("email", "text"), ("first_name", "text"), ("country", "text"),
        ("region", "text"), ("city", "text"), ("birthday", "date"), ("plan", "text"),
        ("arr", "decimal"), ("seats", "int"), ("signup_date", "date"),
        ("last_login", "timestamp"), ("nps", "int"), ("email_opt_in", "bool"),
        ("interests", "list"), ("primary_device", "text"), ("apps", "list"),
        ("features_used", "list"), ("job_role", "text"), ("channel", "text"),
        ("tags", "list"), ("company_id", "text"),
    ]),
    "order": ("orders.csv", [
        ("id", "text"), ("customer_id", "text"), ("placed_on", "date"),
        ("amount", "decimal"), ("status", "text"), ("channel", "text"),
        ("category", "text"), ("items", "int"),
    ]),
    "company": ("companies.csv", [
        ("id", "text"), ("name", "text"), ("industry", "text"), ("employees", "int"),
        ("country", "text"), ("region", "text"), ("arr", "decimal"), ("renewal_date", "date"),
    ]),
    "ticket": ("tickets.csv", [
        ("id", "text"), ("customer_id", "text"), ("opened_at", "timestamp"),
        ("priority", "text"), ("status", "text"), ("category", "text"), ("csat", "int"),
    ]),
    "event": ("events.csv", [
        ("id", "text"), ("customer_id", "text"), ("occurred_at", "timestamp"),
        ("kind", "text"), ("feature", "text"),
    ]),
}

SQL_TYPES = {
    "duckdb": {"text": "VARCHAR", "int": "BIGINT", "decimal": "DECIMAL(18, 2)", "date": "DATE",
               "timestamp": "TIMESTAMPTZ", "bool": "BOOLEAN", "list": "VARCHAR[]"},
    "postgres": {"text": "TEXT", "int": "BIGINT", "decimal": "NUMERIC(18, 2)", "date": "DATE",
                 "timestamp": "TIMESTAMPTZ", "bool": "BOOLEAN", "list": "TEXT[]"},
    # SQLite: dates as YYYY-MM-DD text, timestamps as microseconds since 1970 (UTC), lists as
    # JSON arrays, decimals as REAL.
    "sqlite": {"text": "TEXT", "int": "INTEGER", "decimal": "REAL", "date": "TEXT",
               "timestamp": "INTEGER", "bool": "INTEGER", "list": "TEXT"},
    "spark": {"text": "STRING", "int": "BIGINT", "decimal": "DECIMAL(18,2)", "date": "DATE",
              "timestamp": "TIMESTAMP", "bool": "BOOLEAN", "list": "ARRAY<STRING>"},
}


def quote(name):
    return '"' + name.replace('"', '""') + '"'


def convert(engine, ty, cell):
    if cell == "" and ty != "list":
        return None
    if ty == "int":
        return int(cell)
    if ty == "decimal":
        if engine == "sqlite":
            return float(cell)
        import decimal
        return decimal.Decimal(cell)
    if ty == "bool":
        return cell == "true"
    if ty == "date":
        return cell if engine == "sqlite" else datetime.date.fromisoformat(cell)
    if ty == "timestamp":
        t = datetime.datetime.fromisoformat(cell.replace("Z", "+00:00"))
        if engine == "sqlite":
            epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
            delta = t - epoch
            return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
        return t
    if ty == "list":
        items = [] if cell == "" else cell.split("|")
        return json.dumps(items, ensure_ascii=False) if engine == "sqlite" else items
    return cell


def connect(engine):
    if engine == "duckdb":
        import duckdb
        return duckdb.connect(":memory:")
    if engine == "sqlite":
        import sqlite3
        return sqlite3.connect(":memory:")
    if engine == "spark":
        # Spark talks to itself over the network: keep it on loopback.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        from pyspark.sql import SparkSession
        session = (SparkSession.builder.master("local[2]").appName("segl-sql-test")
                   .config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1")
                   # The SQL must not depend on it; SEGL_SPARK_SESSION_TZ tries another zone.
                   .config("spark.sql.session.timeZone",
                           os.environ.get("SEGL_SPARK_SESSION_TZ", "UTC"))
                   .config("spark.sql.ansi.enabled", "true")
                   .config("spark.sql.decimalOperations.allowPrecisionLoss", "false")
                   .config("spark.sql.shuffle.partitions", "2")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .getOrCreate())
        session.sparkContext.setLogLevel("ERROR")
        return session
    if engine == "postgres":
        import psycopg
        conn = psycopg.connect(os.environ["SEGL_PG_DSN"], autocommit=True)
        schema = f"segl_test_{os.getpid()}"
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"SET search_path TO {schema}")
        conn.segl_schema = schema
        return conn
    raise SystemExit(f"unknown engine {engine}")


def read_rows(engine, file, columns, data_dir):
    with open(os.path.join(data_dir, file), newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        assert header == [c for c, _ in columns], (file, header)
        return [tuple(convert(engine, t, cell) for (_, t), cell in zip(columns, row))
                for row in reader]


def load_spark(session, data_dir):
    """One temporary view per entity, from a DataFrame with the documented column types."""
    from pyspark.sql.types import StructType, StructField, _parse_datatype_string
    types = SQL_TYPES["spark"]
    for entity, (file, columns) in SCHEMA.items():
        schema = StructType([StructField(c, _parse_datatype_string(types[t]), True)
                             for c, t in columns])
        rows = read_rows("spark", file, columns, data_dir)
        session.createDataFrame(rows, schema).createOrReplaceTempView(entity)


def load(engine, conn, data_dir):
    if engine == "spark":
        load_spark(conn, data_dir)
        return
    types = SQL_TYPES[engine]
    mark = "%s" if engine == "postgres" else "?"
    for entity, (file, columns) in SCHEMA.items():
        cols = ", ".join(f"{quote(c)} {types[t]}" for c, t in columns)
        conn.execute(f"CREATE TABLE {quote(entity)} ({cols})")
        rows = read_rows(engine, file, columns, data_dir)
        marks = ", ".join([mark] * len(columns))
        insert = f"INSERT INTO {quote(entity)} VALUES ({marks})"
        if engine == "postgres":
            with conn.cursor() as cur:
                cur.executemany(insert, rows)
        else:
            conn.executemany(insert, rows)


def cell(engine, value, type_name):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if engine == "sqlite" and type_name == "bool":
        return "true" if value else "false"
    return str(value)


def main():
    engine, data_dir, sql_file, out_dir = sys.argv[1:5]
    with open(sql_file, encoding="utf-8") as f:
        script = f.read()
    conn = connect(engine)
    try:
        quoting = os.environ.get("SEGL_SQL_QUOTING")
        if quoting:
            with open(quoting, encoding="utf-8") as f:
                queries = json.load(f)
            read = []
            for query in queries:
                if engine == "spark":
                    frame = conn.sql(query)
                    read.append([frame.columns[0], frame.collect()[0][0]])
                else:
                    cur = conn.execute(query)
                    read.append([cur.description[0][0], cur.fetchone()[0]])
            with open(os.path.join(out_dir, "quoting.json"), "w", encoding="utf-8") as out:
                json.dump(read, out, ensure_ascii=False)
        load(engine, conn, data_dir)
        parts = re.split(r"^(?=-- Membership of each )", script, flags=re.M)
        for part in parts:
            m = re.match(r"-- Membership of each (.+) record\.", part)
            if not m:
                continue
            entity = m.group(1)
            query = part.strip().rstrip(";")
            if engine == "spark":
                frame = conn.sql(query)
                names = frame.columns
                rows = [tuple(r) for r in frame.collect()]
            else:
                cur = conn.execute(query)
                names = [d[0] for d in cur.description]
                rows = cur.fetchall()
            # SQLite has no boolean type: segment columns (neither key, tier nor score) hold 0/1.
            bool_cols = set()
            if engine == "sqlite":
                for i, _ in enumerate(names):
                    values = {r[i] for r in rows if r[i] is not None}
                    if i > 0 and values and values <= {0, 1} and os.environ.get(
                            "SEGL_SQL_BOOLS", "") and names[i] in os.environ["SEGL_SQL_BOOLS"].split(","):
                        bool_cols.add(i)
            with open(os.path.join(out_dir, f"{entity}.csv"), "w", newline="",
                      encoding="utf-8") as out:
                w = csv.writer(out, lineterminator="\n")
                w.writerow(names)
                for r in rows:
                    w.writerow([cell(engine, v, "bool" if i in bool_cols else "")
                                for i, v in enumerate(r)])
    finally:
        if engine == "postgres":
            conn.execute(f"DROP SCHEMA IF EXISTS {conn.segl_schema} CASCADE")
        if engine == "spark":
            conn.stop()
        else:
            conn.close()


if __name__ == "__main__":
    main()
