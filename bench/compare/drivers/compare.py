#!/usr/bin/env python3
"""Compares the memberships every tool wrote and summarises the measured runs.

    compare.py RESULTS_DIR TITLE

RESULTS_DIR holds `runs.jsonl` (one line per measured run, from record.py) and
`out/WORKLOAD/TOOL[.ENTITY].parquet` (the membership each tool wrote on its last run). segl is
the reference: for every other tool and every output column it compares the member count and a
hash of the sorted member keys (booleans: the records in the segment; text columns: the records
in each tier; whole numbers: every record's value). Writes `results.json` and `results.md` and
prints the Markdown; exits with 1 when a tool disagrees with segl or a run failed (after
writing both files: disagreements are findings to report, not to hide)."""

import collections
import glob
import hashlib
import json
import os
import statistics
import sys

import polars as pl

REFERENCE = "segl"
TOOL_ORDER = ["segl", "duckdb", "duckdb-segl-sql", "polars", "pandas"]


def digest(ids):
    joined = ids.sort().str.join("\n").item() if len(ids) else ""
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def memberships(path):
    """column (or column=tier) -> (count, hash, sorted keys)."""
    df = pl.read_parquet(path)
    out = {}
    for name, dtype in df.schema.items():
        if name == "id":
            continue
        col = df[name]
        if dtype == pl.Boolean:
            ids = df.filter(col.fill_null(False))["id"]
            out[name] = (len(ids), digest(ids), ids)
        elif dtype == pl.String:
            for tier in sorted(col.drop_nulls().unique().to_list()):
                ids = df.filter(col == tier)["id"]
                out[f"{name}={tier}"] = (len(ids), digest(ids), ids)
        else:
            pairs = df.filter(col.is_not_null()).select(
                pl.format("{}={}", pl.col("id"), pl.col(name).cast(pl.String)).alias("p"))["p"]
            out[name] = (int(col.drop_nulls().sum()), digest(pairs), pairs)
    return out


def compare(results):
    findings = []
    agreement = {}
    for workload_dir in sorted(glob.glob(os.path.join(results, "out", "*"))):
        workload = os.path.basename(workload_dir)
        files = collections.defaultdict(dict)
        for path in glob.glob(os.path.join(workload_dir, "*.parquet")):
            base = os.path.basename(path)[: -len(".parquet")]
            tool, _, entity = base.partition(".")
            files[tool][entity or "customer"] = path
        if REFERENCE not in files:
            continue
        ref = {e: memberships(p) for e, p in files[REFERENCE].items()}
        for tool in files:
            if tool == REFERENCE:
                continue
            mismatches = 0
            compared = 0
            for entity, ref_cols in ref.items():
                if entity not in files[tool]:
                    findings.append({"workload": workload, "tool": tool, "entity": entity,
                                     "column": "*", "problem": "no membership file"})
                    mismatches += 1
                    continue
                got = memberships(files[tool][entity])
                for col in sorted(set(ref_cols) | set(got)):
                    compared += 1
                    r, g = ref_cols.get(col), got.get(col)
                    if r is not None and g is not None and r[:2] == g[:2]:
                        continue
                    mismatches += 1
                    finding = {"workload": workload, "tool": tool, "entity": entity,
                               "column": col,
                               "segl": None if r is None else r[0],
                               "other": None if g is None else g[0]}
                    if r is not None and g is not None:
                        rs, gs = set(r[2].to_list()), set(g[2].to_list())
                        finding["only_segl"] = sorted(rs - gs)[:5]
                        finding["only_other"] = sorted(gs - rs)[:5]
                        finding["only_segl_count"] = len(rs - gs)
                        finding["only_other_count"] = len(gs - rs)
                    findings.append(finding)
            agreement[(workload, tool)] = (compared, mismatches)
    return findings, agreement


def summarise(results):
    runs = collections.defaultdict(list)
    with open(os.path.join(results, "runs.jsonl"), encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            runs[(row["workload"], row["tool"])].append(row)
    summary = {}
    for key, rows in runs.items():
        # `segl check` exits with 4 when it found warnings only (the generated rules have some)
        ok = [r for r in rows if r["exit"] == 0 or (r["workload"] == "check" and r["exit"] == 4)]
        def med(field):
            values = [r[field] for r in ok if r.get(field) is not None]
            return statistics.median(values) if values else None
        summary[key] = {
            "runs": len(rows), "failed": len(rows) - len(ok),
            "wall_s": med("wall_s"), "query_s": med("query_s"), "load_s": med("load_s"),
            "rss_mib": max((r["rss_mib"] for r in ok if r.get("rss_mib")), default=None),
        }
    return summary


def fmt(x, unit=""):
    if x is None:
        return "—"
    if unit == "MiB":
        return f"{x:,.0f} MiB"
    return f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def ratio(a, b):
    return "—" if a is None or not b else f"{a / b:.2f}"


def markdown(title, summary, agreement, findings):
    lines = [f"### {title}", ""]
    workloads = sorted({w for w, _ in summary})
    lines.append("| workload | tool | wall (median) | in-process | peak RSS | segl/tool wall "
                 "| segl/tool RSS | members agree |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---|")
    for w in workloads:
        tools = sorted((t for ww, t in summary if ww == w),
                       key=lambda t: TOOL_ORDER.index(t) if t in TOOL_ORDER else 99)
        ref = summary.get((w, REFERENCE), {})
        for t in tools:
            s = summary[(w, t)]
            if w == "check":
                agree = "(rules only, no data)"
            elif t == REFERENCE:
                agree = "reference"
            elif (w, t) in agreement:
                n, bad = agreement[(w, t)]
                agree = f"all {n} columns" if bad == 0 else f"**{bad} of {n} differ**"
            else:
                agree = "no output"
            failed = f" ({s['failed']} failed)" if s["failed"] else ""
            lines.append(
                f"| {w} | {t}{failed} | {fmt(s['wall_s'])} | {fmt(s['query_s'])} | "
                f"{fmt(s['rss_mib'], 'MiB')} | "
                f"{'' if t == REFERENCE else ratio(ref.get('wall_s'), s['wall_s'])} | "
                f"{'' if t == REFERENCE else ratio(ref.get('rss_mib'), s['rss_mib'])} |"
                f" {agree} |")
    duck = [w for w in workloads if (w, "duckdb") in summary or (w, "duckdb-segl-sql") in summary]
    if duck:
        lines += ["", "segl's whole process against DuckDB's query-only time (target: at most "
                  "1.5):", ""]
        for w in duck:
            ref = summary.get((w, REFERENCE), {})
            parts = []
            for t in ("duckdb", "duckdb-segl-sql"):
                if (w, t) in summary:
                    parts.append(f"{t} {ratio(ref.get('wall_s'), summary[(w, t)]['query_s'])}")
            lines.append(f"- {w}: " + ", ".join(parts))
    if findings:
        lines += ["", "Membership differences (segl is the reference):", ""]
        for f in findings:
            if "problem" in f:
                lines.append(f"- {f['workload']} / {f['tool']} / {f['entity']}: {f['problem']}")
                continue
            extra = ""
            if "only_segl" in f:
                extra = (f"; only in segl: {f['only_segl_count']} {f['only_segl']}, only in "
                         f"{f['tool']}: {f['only_other_count']} {f['only_other']}")
            lines.append(f"- {f['workload']} / {f['tool']} / {f['entity']}.{f['column']}: "
                         f"segl {f['segl']}, {f['tool']} {f['other']}{extra}")
    return "\n".join(lines) + "\n"


def main():
    results, title = sys.argv[1], sys.argv[2]
    summary = summarise(results)
    findings, agreement = compare(results)
    md = markdown(title, summary, agreement, findings)
    with open(os.path.join(results, "results.md"), "w", encoding="utf-8") as f:
        f.write(md)
    doc = {
        "title": title,
        "summary": [{"workload": w, "tool": t, **s} for (w, t), s in sorted(summary.items())],
        "agreement": [{"workload": w, "tool": t, "columns": n, "differ": bad}
                      for (w, t), (n, bad) in sorted(agreement.items())],
        "findings": findings,
    }
    with open(os.path.join(results, "results.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
    print(md)
    failed = any(s["failed"] for s in summary.values())
    sys.exit(1 if findings or failed else 0)


if __name__ == "__main__":
    main()
