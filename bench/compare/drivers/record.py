#!/usr/bin/env python3
"""Appends one measured run to a JSON-lines file.

    record.py RUNS_FILE WORKLOAD TOOL REP EXIT_CODE TIME_V_FILE [TIMING_JSON] [STDOUT_FILE]

Wall time and peak RSS come from GNU time's `-v` report of the whole process; the times
measured inside the process come from TIMING_JSON (written by run_tool.py) or, for segl, from
the `done in X s` line of its output."""

import json
import os
import re
import sys


def parse_time_v(path):
    wall = rss = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("Elapsed (wall clock) time"):
                value = line.rsplit(": ", 1)[1]
                parts = [float(p) for p in value.split(":")]
                wall = 0.0
                for p in parts:
                    wall = wall * 60 + p
            elif line.startswith("Maximum resident set size"):
                rss = int(line.rsplit(": ", 1)[1])
    return wall, rss


def main():
    runs, workload, tool, rep, code, time_v = sys.argv[1:7]
    timing_file = sys.argv[7] if len(sys.argv) > 7 else ""
    stdout_file = sys.argv[8] if len(sys.argv) > 8 else ""
    wall, rss = parse_time_v(time_v)
    row = {"workload": workload, "tool": tool, "rep": int(rep), "exit": int(code),
           "wall_s": wall, "rss_mib": None if rss is None else rss / 1024}
    if timing_file and os.path.exists(timing_file):
        with open(timing_file, encoding="utf-8") as f:
            row.update(json.load(f))
    if stdout_file and os.path.exists(stdout_file):
        with open(stdout_file, encoding="utf-8", errors="replace") as f:
            m = re.search(r"^done in ([0-9.]+) s", f.read(), flags=re.M)
        if m:
            row["query_s"] = float(m.group(1))
    with open(runs, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
