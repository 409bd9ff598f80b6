# Shared by generate.sh, run.sh and smoke.sh (sourced, not run).
#
#   WORK   where data, the Python environment, copies of the projects and results go (default
#          /tmp/segl-compare; never inside the repository)
#   SEGL   a segl binary to use; default: build release and copy it to $WORK/segl (a private
#          copy: another build in the same target folder cannot swap it mid-measurement)
#   CARGO_TARGET_DIR   where cargo builds (default: the repository's target/)

COMPARE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$COMPARE/../.." && pwd)
WORK=${WORK:-/tmp/segl-compare}
mkdir -p "$WORK"

ensure_segl() {
    if [ -n "${SEGL:-}" ]; then
        return
    fi
    echo "building segl (release)" >&2
    (cd "$REPO" && cargo build --release --quiet)
    cp "${CARGO_TARGET_DIR:-$REPO/target}/release/segl" "$WORK/segl"
    SEGL=$WORK/segl
}

# The data set of N customers in FORMAT, generated once: prints its folder.
ensure_data() { # N FORMAT
    local n=$1 format=$2 dir=$WORK/data-$1-$2
    if [ ! -f "$dir/.complete" ]; then
        rm -rf "$dir"
        echo "generating $n customers as $format into $dir" >&2
        "$SEGL" generate --customers "$n" --seed 1 --format "$format" --out "$dir" >&2
        touch "$dir/.complete"
    fi
    echo "$dir"
}
