#!/usr/bin/env python3
"""Parses SQL written by `segl sql` with sqlglot, the syntax check for engines the tests cannot
run (BigQuery, Snowflake).

    parse.py DIALECT SQL_FILE     every statement must parse; exit 1 with the error otherwise
    parse.py --views DIALECT SQL_FILE
                                  the same for `segl sql --views`: one CREATE VIEW per view,
                                  besides only DROP VIEW and view comments
    parse.py --quoting CASES_JSON OUT_JSON
                                  CASES_JSON: a list of [dialect, `SELECT <text> AS <name>`];
                                  OUT_JSON gets [name, text] per query as sqlglot reads them

DIALECT is sqlglot's name for the engine (duckdb, postgres, sqlite, bigquery, snowflake, spark).
"""

import json
import re
import sys

import sqlglot
from sqlglot import exp


def check(dialect, path):
    with open(path, encoding="utf-8") as f:
        script = f.read()
    try:
        statements = [s for s in sqlglot.parse(script, read=dialect) if s is not None]
    except sqlglot.errors.SqlglotError as e:
        sys.exit(f"{path}: {dialect} SQL does not parse: {e}")
    wanted = len(re.findall(r"^-- Membership of each ", script, flags=re.M))
    if len(statements) != wanted:
        sys.exit(f"{path}: {len(statements)} statements, expected {wanted}")
    for s in statements:
        if not isinstance(s, exp.Select):
            sys.exit(f"{path}: not a query: {s.sql(dialect=dialect)[:200]}")


def check_views(dialect, path):
    with open(path, encoding="utf-8") as f:
        script = f.read()
    try:
        statements = [s for s in sqlglot.parse(script, read=dialect) if s is not None]
    except sqlglot.errors.SqlglotError as e:
        sys.exit(f"{path}: {dialect} SQL does not parse: {e}")
    wanted = len(re.findall(r"^CREATE (OR REPLACE )?VIEW ", script, flags=re.M))
    creates = [s for s in statements
               if isinstance(s, exp.Create) and str(s.args.get("kind", "")).upper() == "VIEW"
               and isinstance(s.expression, (exp.Select, exp.Union, exp.Subquery))]
    if wanted == 0 or len(creates) != wanted:
        sys.exit(f"{path}: {len(creates)} views with a query, expected {wanted}")
    for s in statements:
        if s in creates or isinstance(s, (exp.Drop, exp.Comment, exp.Alter)):
            continue
        # Statements sqlglot keeps as text: only the view comments segl writes.
        text = s.sql(dialect=dialect)
        if isinstance(s, exp.Command) and re.match(r"(ALTER VIEW|COMMENT ON VIEW) ", text):
            continue
        sys.exit(f"{path}: unexpected statement: {text[:200]}")


def quoting(cases_path, out_path):
    with open(cases_path, encoding="utf-8") as f:
        cases = json.load(f)
    read = []
    for dialect, query in cases:
        select = sqlglot.parse_one(query, read=dialect)
        column = select.expressions[0]
        value = column.this
        # PostgreSQL's E'...' strings come back as byte strings; the value is the same.
        if not isinstance(value, (exp.Literal, exp.ByteString)) or (
                isinstance(value, exp.Literal) and not value.is_string):
            sys.exit(f"{dialect}: {query!r} is not one text literal")
        read.append([column.alias, value.this])
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(read, out, ensure_ascii=False)


if __name__ == "__main__":
    if sys.argv[1] == "--quoting":
        quoting(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "--views":
        check_views(sys.argv[2], sys.argv[3])
    else:
        check(sys.argv[1], sys.argv[2])
