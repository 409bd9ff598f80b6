#!/usr/bin/env bash
# Times `segl check` on generated projects of growing size, to show that checking grows linearly.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${TMPDIR:-/tmp}/segl-bench-check"

echo "==> cargo build --release"
(cd "$root" && cargo build --release --quiet)
segl="$root/target/release/segl"

mkdir -p "$work"
printf '\n%10s  %10s  %s\n' segments seconds result
for n in 2500 5000 10000 20000; do
    python3 "$here/generate.py" "$work/p$n" --segments "$n" >/dev/null
    start=$(date +%s.%N)
    set +e
    result="$("$segl" check --format plain "$work/p$n" | tail -n 1)"
    set -e
    end=$(date +%s.%N)
    printf '%10d  %10.3f  %s\n' "$n" "$(python3 -c "print($end - $start)")" "$result"
done
