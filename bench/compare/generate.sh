#!/usr/bin/env bash
# Generates the benchmark data once (and reuses it afterwards): N customers in FORMAT (csv or
# parquet) with their orders, companies, tickets and events, deterministically (seed 1, as of
# 2026-11-20), into $WORK/data-N-FORMAT (WORK defaults to /tmp/segl-compare).
#
#   bash bench/compare/generate.sh 1000000 parquet    # ~4.9M orders, 100,000 companies
#   bash bench/compare/generate.sh 5000000 csv        # ~25M orders
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${1:-20000}
FORMAT=${2:-parquet}
case $FORMAT in parquet | csv) ;; *) echo "FORMAT must be parquet or csv" >&2; exit 2 ;; esac
ensure_segl
dir=$(ensure_data "$N" "$FORMAT")
du -sh "$dir"/* | sed 's/^/  /'
