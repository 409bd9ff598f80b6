#!/usr/bin/env python3
"""Writes a segl project with N segments for timing `segl check`.

Deterministic: the same N and seed give the same files. Standard library only.

    python3 bench/check/generate.py OUT_DIR [--segments 10000] [--seed 7]

The project uses the example schema (bench/check/schema.segl, a copy of rules/schema.segl) and
spreads the segments over files of 250 segments each, with a mix of the conditions rule authors
write: enum tests, numeric ranges, text tests, time windows, aggregates over relations, paths
through `one` relations, population functions, list blocks and references to earlier segments.
"""

import argparse
import os
import random
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
PER_FILE = 250

REGIONS = ["EMEA", "NA", "LATAM", "APAC"]
PLANS = ["free", "starter", "pro", "enterprise"]
DEVICES = ["desktop", "ios", "android"]
CHANNELS = ["organic", "paid_search", "social", "referral", "partner", "sales"]
ROLES = ["decision_maker", "manager", "user", "billing"]
INDUSTRIES = ["software", "retail", "finance", "healthcare", "manufacturing", "education", "media"]
COUNTRIES = ["DE", "FR", "US", "BR", "JP", "GB", "ES", "IT", "CA", "AU", "IN", "MX"]
INTERESTS = ["analytics", "automation", "security", "design", "ai", "mobile", "crm"]
CATEGORIES = ["books", "software", "hardware", "services", "training"]
UNITS = ["days", "weeks", "months"]


def pick_list(rng, values, k_max=3):
    k = rng.randint(1, min(k_max, len(values)))
    return "[" + ", ".join(rng.sample(values, k)) + "]"


def text_list(rng, values, k_max=3):
    k = rng.randint(1, min(k_max, len(values)))
    return "[" + ", ".join('"%s"' % v for v in rng.sample(values, k)) + "]"


def condition(rng, earlier):
    """One condition on a customer, chosen from a realistic mix."""
    kind = rng.randrange(16)
    if kind == 0:
        return "region is %s" % rng.choice(REGIONS)
    if kind == 1:
        return "plan is any of %s" % pick_list(rng, PLANS)
    if kind == 2:
        low = rng.choice([1, 5, 10, 25, 50]) * 1000
        return "arr is between %s and %s" % (f"{low:_}", f"{low * 4:_}")
    if kind == 3:
        return "arr >= %s" % f"{rng.choice([5, 10, 25, 50, 100]) * 1000:_}"
    if kind == 4:
        return "country is any of %s" % text_list(rng, COUNTRIES, 4)
    if kind == 5:
        return "last_login in last %d days" % rng.choice([7, 14, 30, 60, 90])
    if kind == 6:
        return "signup_date is more than %d %s ago" % (rng.randint(1, 24), rng.choice(UNITS))
    if kind == 7:
        return "count(orders in last %d days) >= %d" % (rng.choice([30, 90, 180, 365]), rng.randint(1, 5))
    if kind == 8:
        return "sum(orders.amount in last 90 days where status is paid) > %d" % rng.choice([100, 500, 1000, 5000])
    if kind == 9:
        return "company.industry is %s" % rng.choice(INDUSTRIES)
    if kind == 10:
        return "interests contains any of %s" % text_list(rng, INTERESTS)
    if kind == 11:
        return "email ends with \"@%s.com\" ignoring case" % rng.choice(["gmail", "acme", "example", "corp"])
    if kind == 12:
        return "percentile of arr >= %d%%" % rng.choice([50, 60, 75, 80, 90])
    if kind == 13:
        return "any(tickets where priority is urgent and status is open)"
    if kind == 14 and earlier:
        return "in segment %s" % rng.choice(earlier[-50:])
    if kind == 15:
        return "nps is known and nps >= %d" % rng.randint(5, 9)
    return "primary_device is %s" % rng.choice(DEVICES)


def segment(rng, index, earlier):
    name = "segment_%05d" % index
    parts = [condition(rng, earlier) for _ in range(rng.randint(1, 4))]
    lines = [
        "segment %s {" % name,
        '  title "Generated segment %d"' % index,
        '  owner "%s"' % rng.choice(["cs-ops", "growth", "marketing", "sales-ops"]),
    ]
    if rng.random() < 0.3:
        lines.append("  where any of {")
        lines.extend("    " + p for p in parts)
        lines.append("  }")
    else:
        lines.append("  where " + ("\n    and ".join(parts)))
    lines.append("}")
    return name, "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the folder to write the project to (replaced if it exists)")
    parser.add_argument("--segments", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(os.path.join(args.out, "segments"))
    shutil.copy(os.path.join(HERE, "schema.segl"), os.path.join(args.out, "schema.segl"))
    with open(os.path.join(args.out, "segl.toml"), "w", encoding="utf-8") as f:
        f.write('[project]\nname = "bench-%d"\nprimary_entity = "customer"\n'
                'time_zone = "Europe/Berlin"\nas_of = "2026-11-20"\n' % args.segments)

    names = []
    total = 0
    for start in range(0, args.segments, PER_FILE):
        chunk = []
        for i in range(start, min(start + PER_FILE, args.segments)):
            name, text = segment(rng, i, names)
            names.append(name)
            chunk.append(text)
        path = os.path.join(args.out, "segments", "part_%04d.segl" % (start // PER_FILE))
        body = "\n".join(chunk)
        with open(path, "w", encoding="utf-8") as f:
            f.write(body)
        total += len(body.encode("utf-8"))
    print("wrote %d segments (%.1f MB of rules) to %s" % (args.segments, total / 1e6, args.out))


if __name__ == "__main__":
    main()
