"""What every driver of the side-by-side benchmark shares: the example schema, the as-of date,
reading the generated files into each tool's own types, and writing membership files.

The generated data (`segl generate`) follows rules/schema.segl. In CSV, an empty cell is an
unknown value (and nothing else is: `NA` is a region), list fields are `|`-joined texts (empty:
no elements), timestamps are ISO 8601 with `Z`, money has two decimals. In Parquet, types are
native (decimal128(38, 2), date32, timestamp[us, UTC], list<string>).
"""

import datetime
import os

AS_OF = datetime.date(2026, 11, 20)
TIME_ZONE = "Europe/Berlin"

# entity -> (file stem, [(column, type)]); types: text, int, money, date, timestamp, bool, list
SCHEMA = {
    "customer": ("customers", [
        ("id", "text"), ("email", "text"), ("first_name", "text"), ("country", "text"),
        ("region", "text"), ("city", "text"), ("birthday", "date"), ("plan", "text"),
        ("arr", "money"), ("seats", "int"), ("signup_date", "date"),
        ("last_login", "timestamp"), ("nps", "int"), ("email_opt_in", "bool"),
        ("interests", "list"), ("primary_device", "text"), ("apps", "list"),
        ("features_used", "list"), ("job_role", "text"), ("channel", "text"),
        ("tags", "list"), ("company_id", "text"),
    ]),
    "order": ("orders", [
        ("id", "text"), ("customer_id", "text"), ("placed_on", "date"),
        ("amount", "money"), ("status", "text"), ("channel", "text"),
        ("category", "text"), ("items", "int"),
    ]),
    "company": ("companies", [
        ("id", "text"), ("name", "text"), ("industry", "text"), ("employees", "int"),
        ("country", "text"), ("region", "text"), ("arr", "money"), ("renewal_date", "date"),
    ]),
    "ticket": ("tickets", [
        ("id", "text"), ("customer_id", "text"), ("opened_at", "timestamp"),
        ("priority", "text"), ("status", "text"), ("category", "text"), ("csat", "int"),
    ]),
    "event": ("events", [
        ("id", "text"), ("customer_id", "text"), ("occurred_at", "timestamp"),
        ("kind", "text"), ("feature", "text"),
    ]),
}


def data_file(data_dir, fmt, entity):
    return os.path.join(data_dir, f"{SCHEMA[entity][0]}.{fmt}")


def out_file(prefix, entity):
    """Where an entity's membership goes: PREFIX.parquet for customers, PREFIX.ENTITY.parquet
    for the others (as `segl run --out PREFIX.parquet` names them)."""
    return f"{prefix}.parquet" if entity == "customer" else f"{prefix}.{entity}.parquet"


def columns(entity, wanted=None):
    cols = SCHEMA[entity][1]
    if wanted is None:
        return cols
    known = dict(cols)
    return [(c, known[c]) for c in wanted]


# --- Polars ---------------------------------------------------------------------------------

def polars_scan(data_dir, fmt):
    """A function ENTITY -> LazyFrame with native types (exact decimals, UTC timestamps, lists
    of text), whatever the file format."""
    import polars as pl

    def scan(entity):
        path = data_file(data_dir, fmt, entity)
        if fmt == "parquet":
            return pl.scan_parquet(path)
        types = {"text": pl.String, "int": pl.Int64, "money": pl.Decimal(38, 2),
                 "date": pl.Date, "timestamp": pl.String, "bool": pl.Boolean, "list": pl.String}
        cols = SCHEMA[entity][1]
        lf = pl.scan_csv(path, schema={c: types[t] for c, t in cols})
        fixes = []
        for c, t in cols:
            if t == "list":
                fixes.append(pl.col(c).str.split("|").fill_null(pl.lit([], pl.List(pl.String))))
            elif t == "timestamp":
                fixes.append(pl.col(c).str.to_datetime("%Y-%m-%dT%H:%M:%S%#z", time_unit="us",
                                                      time_zone="UTC"))
        return lf.with_columns(fixes) if fixes else lf

    return scan


# --- pandas ---------------------------------------------------------------------------------

def pandas_read(data_dir, fmt):
    """A function (ENTITY, COLUMNS) -> DataFrame. Money becomes int64 cents (exact sums and
    comparisons; pandas has no exact decimal type other than Python objects), dates
    datetime64[s], timestamps datetime64[us, UTC], lists Python lists, text str with NaN for
    unknown. Only a truly empty CSV cell is unknown: pandas' default also reads `NA`, `N/A`,
    `null`... as missing, which would lose the region `NA`."""
    import numpy as np
    import pandas as pd

    def read(entity, wanted=None):
        cols = columns(entity, wanted)
        names = [c for c, _ in cols]
        path = data_file(data_dir, fmt, entity)
        if fmt == "parquet":
            import pyarrow.compute as pc
            import pyarrow.parquet as pq
            table = pq.read_table(path, columns=names)
            for c, t in cols:
                if t == "money":
                    i = table.schema.get_field_index(c)
                    import pyarrow as pa
                    narrow = pc.cast(table.column(c), pa.decimal128(18, 2))
                    cents = pc.cast(pc.multiply(narrow, pa.scalar(100, pa.int64())), pa.int64())
                    table = table.set_column(i, c, cents)
            df = table.to_pandas(date_as_object=False)
            for c, t in cols:
                if t == "list":
                    df[c] = df[c].map(list)
            return df
        dtypes = {c: ("str" if t in ("text", "money", "list", "date", "timestamp")
                      else "Int64" if t == "int" else "boolean") for c, t in cols}
        df = pd.read_csv(path, usecols=names, dtype=dtypes, keep_default_na=False,
                         na_values=[""])
        for c, t in cols:
            if t == "money":
                whole_and_cents = df[c].str.split(".", expand=True)
                if whole_and_cents.shape[1] != 2 or (whole_and_cents[1].str.len() != 2).any():
                    raise SystemExit(f"{path}: {c} is not written with two decimals")
                df[c] = whole_and_cents[0].astype("int64") * 100 + np.where(
                    whole_and_cents[0].str.startswith("-"), -1, 1) * whole_and_cents[1].astype(
                        "int64")
            elif t == "date":
                df[c] = pd.to_datetime(df[c], format="%Y-%m-%d")
            elif t == "timestamp":
                df[c] = pd.to_datetime(df[c], format="%Y-%m-%dT%H:%M:%SZ", utc=True)
            elif t == "list":
                df[c] = df[c].fillna("").map(lambda s: s.split("|") if s else [])
        return df[names]

    return read


# --- DuckDB ---------------------------------------------------------------------------------

DUCKDB_TYPES = {"text": "VARCHAR", "int": "BIGINT", "money": "DECIMAL(18, 2)", "date": "DATE",
                "timestamp": "TIMESTAMPTZ", "bool": "BOOLEAN", "list": "VARCHAR"}


def duckdb_source(data_dir, fmt, entity):
    """A SELECT reading an entity's file with the column types segl's SQL expects."""
    path = data_file(data_dir, fmt, entity).replace("'", "''")
    if fmt == "parquet":
        return f"SELECT * FROM read_parquet('{path}')"
    cols = SCHEMA[entity][1]
    spec = ", ".join(f"'{c}': '{DUCKDB_TYPES[t]}'" for c, t in cols)
    select = ", ".join(
        f"coalesce(string_split(\"{c}\", '|'), []::VARCHAR[]) AS \"{c}\"" if t == "list"
        else f"\"{c}\"" for c, t in cols)
    return (f"SELECT {select} FROM read_csv('{path}', header = true, columns = {{{spec}}}, "
            f"nullstr = '', auto_detect = false)")
