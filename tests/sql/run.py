#!/usr/bin/env python3
"""Runs SQL written by `segl sql` on a real engine over a project's data.

    run.py ENGINE TABLES_JSON SQL_FILE OUT_DIR [--param NAME=VALUE]...
    run.py --batch JOBS_JSON
    run.py --views ENGINE TABLES_JSON SQL_FILE OUT_DIR

ENGINE is duckdb, sqlite, postgres or spark (PostgreSQL: connection string in SEGL_PG_DSN; a
fresh schema is created for each run and dropped after it. Spark: a local PySpark session in ANSI
mode with the session time zone UTC, the tables as temporary views).

TABLES_JSON is what `segl sql --dialect ENGINE --create-tables --format json PROJECT` prints:
the `CREATE TABLE` statements, the schema type of every column, the project's time zone and the
data file `segl.toml` names for each entity (CSV or NDJSON, with its delimiter, `missing` texts
and list separator). The tables are created with those statements and filled from those files,
each value read the way `segl run` reads it (docs/data.md), then the script's membership
queries run.

Each run writes OUT_DIR/result.json: {"queries": [{"entity", "columns", "rows"}]} with every
cell as text (booleans as true/false, unknown as null), in the query's row order, or
{"error": "..."} when the run failed. A single run also writes one CSV file per query.

--batch runs many jobs in one process (the generated-program tests): JOBS_JSON is a list of
{"engine", "tables", "sql", "out"} objects with the same meaning as the arguments above, and
optionally "params" ({NAME: VALUE}).

`--param NAME=VALUE` binds a parameter of `segl sql --as-of-param=NAME` the way docs/sql.md tells
users to: a DuckDB variable, a PostgreSQL setting `segl.NAME`, a SQLite named parameter, a Spark
named parameter marker (`spark.sql(query, args={...})` with a `datetime.date`).

With a JSON file named by SEGL_SQL_QUOTING (or a job's "quoting"): a list of one-row
`SELECT <text> AS <name>` queries. Each runs, and OUT_DIR/quoting.json gets, per query,
[column name, value]: what the engine read from segl's quoted identifier and literal.

With --views the file is a script of `CREATE VIEW` statements (`segl sql --views`): it runs as a
whole, then every view it created is read, ordered by its first column, into OUT_DIR/VIEW.csv.
"""

import csv
import datetime
import decimal
import json
import os
import re
import sys
import tempfile
import traceback
import zoneinfo

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def micros(delta):
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$")


def timestamp(text, zone):
    """A timestamp as segl reads it: without an offset it is a wall-clock time in the project's
    time zone; a time in a gap moves forward by the gap and a repeated time is the first one
    (Python's fold=0 does both)."""
    m = TIMESTAMP.match(text)
    if not m:
        raise ValueError(f"not a timestamp: {text!r}")
    day, hh, mm, ss, frac, offset = m.groups()
    frac = (frac or "").ljust(6, "0")[:6]
    t = datetime.datetime.fromisoformat(f"{day}T{hh}:{mm}:{ss or '00'}.{frac}")
    if offset is None:
        return t.replace(tzinfo=zone).astimezone(datetime.timezone.utc)
    if offset == "Z":
        return t.replace(tzinfo=datetime.timezone.utc)
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    tz = datetime.timezone(sign * datetime.timedelta(hours=int(digits[:2]),
                                                     minutes=int(digits[2:])))
    return t.replace(tzinfo=tz).astimezone(datetime.timezone.utc)


UNITS = {"w": 7 * 86400, "week": 7 * 86400, "weeks": 7 * 86400, "d": 86400, "day": 86400,
         "days": 86400, "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
         "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60, "s": 1, "sec": 1,
         "secs": 1, "second": 1, "seconds": 1}


def duration(text):
    """`90 days`, `2h 30m`, `PT2H30M` as a timedelta."""
    t = text.strip()
    iso = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", t,
                       re.I)
    if iso:
        d, h, m, s = (float(x) if x else 0 for x in iso.groups())
        return datetime.timedelta(days=d, hours=h, minutes=m, seconds=s)
    total = 0.0
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]+)", t)
    if not parts:
        raise ValueError(f"not a duration: {text!r}")
    for n, unit in parts:
        total += float(n) * UNITS[unit.lower()]
    return datetime.timedelta(seconds=total)


def value(engine, ty, v, zone):
    """One value (text from CSV or a JSON string, or a JSON value) as the engine's column holds
    it (docs/sql.md, "Tables")."""
    if v is None:
        return None
    sqlite = engine == "sqlite"
    if ty in ("text", "one of"):
        return v
    if ty == "integer":
        return int(v)
    if ty == "decimal":
        return float(decimal.Decimal(v)) if sqlite else decimal.Decimal(v)
    if ty == "number":
        return float(v)
    if ty == "boolean":
        b = v if isinstance(v, bool) else v.lower() == "true"
        return int(b) if sqlite else b
    if ty == "date":
        d = datetime.date.fromisoformat(v)
        return d.isoformat() if sqlite else d
    if ty == "timestamp":
        t = timestamp(v, zone)
        return micros(t - EPOCH) if sqlite else t
    if ty == "duration":
        d = duration(v)
        return micros(d) if sqlite else d
    raise ValueError(f"unknown type {ty}")


def list_value(engine, ty, items, zone):
    inner = ty[len("list of "):]
    values = [value(engine, inner, i, zone) for i in items]
    if engine == "sqlite":
        return json.dumps([str(x) if isinstance(x, decimal.Decimal) else x for x in values],
                          ensure_ascii=False)
    return values


def read_csv(path, source, columns):
    """Rows of a CSV file as lists of texts (None for unknown), in `columns` order."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=source["delimiter"])
        header = [h.strip() for h in next(reader)]
        index = [header.index(c["name"]) for c in columns]
        missing = set(source["missing"])
        for row in reader:
            if not any(row) and len(row) <= 1 and len(header) > 1:
                continue
            out = []
            for c, i in zip(columns, index):
                cell = row[i]
                if c["type"].startswith("list of "):
                    out.append(None if cell in missing else
                               ([] if cell == "" else cell.split(source["list_separator"])))
                else:
                    out.append(None if cell == "" or cell in missing else cell)
            yield out


def read_ndjson(path, source, columns):
    """Rows of an NDJSON file; numbers stay the text they are written as."""
    missing = set(source["missing"])
    with open(path, encoding="utf-8-sig") as f:
        for line in f:
            if not line.strip():
                continue
            obj = json.loads(line, parse_int=str, parse_float=str)
            out = []
            for c in columns:
                v = obj.get(c["name"])
                if isinstance(v, str) and v in missing:
                    v = None
                out.append(v)
            yield out


def connect(engine, n):
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
    if engine == "duckdb":
        import duckdb
        return duckdb.connect(":memory:")
    if engine == "sqlite":
        import sqlite3
        return sqlite3.connect(":memory:")
    if engine == "postgres":
        import psycopg
        conn = psycopg.connect(os.environ["SEGL_PG_DSN"], autocommit=True)
        schema = f"segl_test_{os.getpid()}_{n}"
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"SET search_path TO {schema}")
        conn.segl_schema = schema
        return conn
    raise SystemExit(f"unknown engine {engine}")


def plain(v):
    """A value as JSON that DuckDB casts back exactly."""
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    if isinstance(v, datetime.timedelta):
        return f"{micros(v)} microseconds"
    return v


def insert(engine, conn, table, rows):
    columns = table["columns"]
    names = ", ".join(c["sql_name"] for c in columns)
    marks = ", ".join(["%s" if engine == "postgres" else "?"] * len(columns))
    sql = f"INSERT INTO {table['table']} ({names}) VALUES ({marks})"
    if engine == "postgres":
        with conn.cursor() as cur:
            cur.executemany(sql, rows)
    elif engine == "duckdb":
        # Row by row is slow in DuckDB: the values go through a JSON file, each cast to its
        # column's type by DuckDB.
        with tempfile.NamedTemporaryFile("w", suffix=".ndjson", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps({f"c{i}": plain(v) for i, v in enumerate(r)},
                                   ensure_ascii=False) + "\n")
            f.flush()
            types = ", ".join(f"'c{i}': '{c['sql_type']}'" for i, c in enumerate(columns))
            picks = ", ".join(f"c{i}" for i in range(len(columns)))
            conn.execute(f"INSERT INTO {table['table']} ({names}) SELECT {picks} FROM "
                         f"read_json('{f.name}', format = 'newline_delimited', "
                         f"columns = {{{types}}})")
    else:
        conn.executemany(sql, rows)


def spark_view(session, table, rows):
    """A temporary view named like the entity, with the columns' declared types."""
    from pyspark.sql.types import StructType, StructField, _parse_datatype_string
    schema = StructType([StructField(c["name"], _parse_datatype_string(c["sql_type"]),
                                     c["optional"]) for c in table["columns"]])
    session.createDataFrame(rows, schema).createOrReplaceTempView(table["entity"])


def load(engine, conn, tables):
    zone = zoneinfo.ZoneInfo(tables["time_zone"])
    for table in tables["tables"]:
        if engine != "spark":
            conn.execute(table["create"])
        source = table["data"]
        if source is None:
            if engine == "spark":
                spark_view(conn, table, [])
            continue
        columns = table["columns"]
        if source["format"] == "csv":
            rows = read_csv(source["path"], source, columns)
        elif source["format"] == "ndjson":
            rows = read_ndjson(source["path"], source, columns)
        else:
            raise ValueError(f"run.py reads CSV and NDJSON, not {source['format']}")
        converted = []
        for row in rows:
            out = []
            for c, v in zip(columns, row):
                if c["type"].startswith("list of "):
                    out.append(None if v is None else list_value(engine, c["type"], v, zone))
                else:
                    out.append(value(engine, c["type"], v, zone))
            converted.append(tuple(out))
        if engine == "spark":
            spark_view(conn, table, converted)
        elif converted:
            insert(engine, conn, table, converted)


def text(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def queries(script):
    """The membership queries of a script: (entity, SQL) pairs."""
    for part in re.split(r"^(?=-- Membership of each )", script, flags=re.M):
        m = re.match(r"-- Membership of each (.+) record\.$", part.split("\n", 1)[0])
        if m:
            yield m.group(1), part.strip().rstrip(";")


def parse_params(args):
    params = {}
    while args:
        flag, value, args = args[0], args[1] if len(args) > 1 else None, args[2:]
        if flag != "--param" or value is None or "=" not in value:
            raise SystemExit(f"expected --param NAME=VALUE, got {flag} {value}")
        name, text = value.split("=", 1)
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise SystemExit(f"bad parameter name {name!r}")
        params[name] = text
    return params


def bind(engine, conn, params):
    """Sets the parameters that are not bound per query (SQLite's and Spark's are)."""
    for name, text in params.items():
        if engine == "duckdb":
            literal = "'" + text.replace("'", "''") + "'"
            conn.execute(f"SET VARIABLE {name} = DATE {literal}")
        elif engine == "postgres":
            conn.execute("SELECT set_config(%s, %s, false)", (f"segl.{name}", text))


def execute(engine, conn, sql, params=None):
    """Column names and rows of a query (SQLite's and Spark's parameters bound to it)."""
    if engine == "spark":
        if params:
            args = {n: datetime.date.fromisoformat(v) for n, v in params.items()}
            frame = conn.sql(sql, args=args)
        else:
            frame = conn.sql(sql)
        return frame.columns, [tuple(r) for r in frame.collect()]
    if engine == "sqlite" and params:
        cur = conn.execute(sql, params)
    else:
        cur = conn.execute(sql)
    return [d[0] for d in cur.description], cur.fetchall()


def run(job, n):
    engine = job["engine"]
    with open(job["tables"], encoding="utf-8") as f:
        tables = json.load(f)
    with open(job["sql"], encoding="utf-8") as f:
        script = f.read()
    conn = connect(engine, n)
    try:
        quoting = job.get("quoting") or os.environ.get("SEGL_SQL_QUOTING")
        if quoting:
            with open(quoting, encoding="utf-8") as f:
                read = []
                for query in json.load(f):
                    names, rows = execute(engine, conn, query)
                    read.append([names[0], rows[0][0]])
            with open(os.path.join(job["out"], "quoting.json"), "w", encoding="utf-8") as out:
                json.dump(read, out, ensure_ascii=False)
        load(engine, conn, tables)
        results = []
        params = job.get("params") or {}
        bind(engine, conn, params)
        for entity, sql in queries(script):
            names, rows = execute(engine, conn, sql, params)
            rows = [[text(v) for v in r] for r in rows]
            results.append({"entity": entity, "columns": names, "rows": rows})
        return {"queries": results}
    finally:
        if engine == "postgres":
            conn.execute(f"DROP SCHEMA IF EXISTS {conn.segl_schema} CASCADE")
        if engine == "spark":
            conn.stop()
        else:
            conn.close()


def write(out_dir, result):
    with open(os.path.join(out_dir, "result.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)


def quote(name):
    return '"' + name.replace('"', '""') + '"'


def run_views(engine, conn, script, out_dir):
    """Runs a `segl sql --views` script, then writes each view's rows to OUT_DIR/VIEW.csv."""
    if engine == "sqlite":
        conn.executescript(script)
    else:
        conn.execute(script)
    views = re.findall(r'^CREATE (?:OR REPLACE )?VIEW "((?:[^"]|"")*)" AS$', script, flags=re.M)
    for view in views:
        name = view.replace('""', '"')
        cur = conn.execute(f"SELECT * FROM {quote(name)} ORDER BY 1")
        with open(os.path.join(out_dir, f"{name}.csv"), "w", newline="", encoding="utf-8") as out:
            w = csv.writer(out, lineterminator="\n")
            w.writerow([d[0] for d in cur.description])
            for r in cur.fetchall():
                w.writerow(["" if v is None else text(v) for v in r])


def main():
    if sys.argv[1:2] == ["--views"]:
        engine, tables, sql_file, out_dir = sys.argv[2:6]
        with open(tables, encoding="utf-8") as f:
            described = json.load(f)
        with open(sql_file, encoding="utf-8") as f:
            script = f.read()
        conn = connect(engine, 0)
        try:
            load(engine, conn, described)
            run_views(engine, conn, script, out_dir)
        finally:
            if engine == "postgres":
                conn.execute(f"DROP SCHEMA IF EXISTS {conn.segl_schema} CASCADE")
            conn.close()
        return
    if sys.argv[1:2] == ["--batch"]:
        with open(sys.argv[2], encoding="utf-8") as f:
            jobs = json.load(f)
        for n, job in enumerate(jobs):
            try:
                result = run(job, n)
            except Exception:  # one failing job must not stop the others
                result = {"error": traceback.format_exc()}
            write(job["out"], result)
        return
    engine, tables, sql, out_dir = sys.argv[1:5]
    params = parse_params(sys.argv[5:])
    job = {"engine": engine, "tables": tables, "sql": sql, "out": out_dir, "params": params}
    result = run(job, 0)
    write(out_dir, result)
    for i, q in enumerate(result["queries"]):
        name = q["entity"] if re.fullmatch(r"[\w-]+", q["entity"], re.A) else str(i)
        with open(os.path.join(out_dir, f"{name}.csv"), "w", newline="", encoding="utf-8") as out:
            w = csv.writer(out, lineterminator="\n")
            w.writerow(q["columns"])
            w.writerows([["" if v is None else v for v in r] for r in q["rows"]])


if __name__ == "__main__":
    main()
