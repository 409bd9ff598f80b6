"""W2 by hand with Polars (lazy): the segments of segments.segl as of 2026-11-20. One group-by
over the orders computes every aggregate per customer; counts and sums over no orders are 0,
the average and the latest date unknown. Quintiles are computed exactly as segl defines them:
with r the lowest rank among equal values and n the known values of the group,
floor((r - 1) * 5 / (n - 1)) + 1, at most 5 (in whole numbers, no rounding)."""

import datetime as dt

import polars as pl

AS_OF = dt.date(2026, 11, 20)


def days(n):
    return AS_OF - dt.timedelta(days=n)


def quintile(value, group):
    c = pl.col
    known = c(value).is_not_null()
    r = c(value).rank("min").over([group, known])
    n = c(value).count().over([group, known])
    q = pl.when(n > 1).then((r - 1) * 5 // (n - 1)).otherwise(0) + 1
    return pl.when(known).then(pl.min_horizontal(q, pl.lit(5)))


def build(scan):
    c = pl.col
    paid = c("status") == "paid"
    on = c("placed_on")
    o = scan("order").group_by("customer_id").agg(
        pl.len().alias("orders"),
        paid.sum().alias("paid_orders"),
        c("amount").filter(paid).sum().alias("paid_total"),
        on.filter(paid).max().alias("last_paid_on"),
        (paid & on.is_between(days(30), AS_OF)).sum().alias("paid_30d"),
        c("amount").filter(paid & on.is_between(days(90), AS_OF)).sum().alias("paid_total_90d"),
        (paid & (c("amount") >= 500) & on.is_between(days(7), AS_OF)).sum().alias("big_paid_7d"),
        (c("status") == "refunded").sum().alias("refunded"),
        (c("channel") != "sales").sum().alias("not_via_sales"),
        c("amount").filter(paid & on.is_between(dt.date(2026, 10, 1), dt.date(2026, 12, 31)))
        .sum().alias("paid_total_this_quarter"),
        c("category").filter(on.is_between(days(365), AS_OF)).n_unique()
        .alias("categories_365d"),
        (paid & on.is_between(days(90), days(30))).sum().alias("paid_30_to_90d_ago"),
        on.is_between(days(29), AS_OF).sum().alias("orders_29d"),
    )
    counts = ["orders", "paid_orders", "paid_30d", "big_paid_7d", "refunded", "not_via_sales",
              "categories_365d", "paid_30_to_90d_ago", "orders_29d"]
    sums = ["paid_total", "paid_total_90d", "paid_total_this_quarter"]
    facts = (
        scan("customer").select("id")
        .join(o, left_on="id", right_on="customer_id", how="left")
        .with_columns(c(counts).fill_null(0), c(sums).fill_null(0))
        .with_columns(
            (c("paid_orders") >= 1).alias("is_buyer"),
            (pl.lit(AS_OF) - c("last_paid_on")).dt.total_days().alias("days_since_last_order"),
            # exact: total > 250 * count, instead of a rounded average
            pl.when(c("paid_orders") > 0).then(c("paid_total") > c("paid_orders") * 250)
            .alias("high_average_order"),
        )
        .with_columns(
            (6 - quintile("days_since_last_order", "is_buyer")).alias("r_score"),
            quintile("paid_orders", "is_buyer").alias("f_score"),
            quintile("paid_total", "is_buyer").alias("m_score"),
        )
    )
    fm = c("f_score") + c("m_score")
    segments = {
        "frequent_recent": c("paid_30d") >= 2,
        "big_spenders_90_days": c("paid_total_90d") > 1_000,
        "lapsed_buyers": c("is_buyer") & (c("days_since_last_order") > 180),
        "recent_big_order": c("big_paid_7d") >= 1,
        "frequent_refunders": c("refunded") >= 2,
        "sales_only": (c("orders") >= 1) & (c("not_via_sales") == 0),
        "high_average_order": c("high_average_order"),
        "spent_this_quarter": c("paid_total_this_quarter") > 500,
        "broad_shoppers": c("categories_365d") >= 4,
        "quiet_after_buying": (c("paid_30_to_90d_ago") >= 1) & (c("orders_29d") == 0),
        "never_paid": ~c("is_buyer"),
        "rfm_champions": c("is_buyer") & (c("r_score") >= 4) & (fm >= 9),
        "rfm_at_risk": c("is_buyer") & (c("r_score") <= 2) & (fm >= 6),
        "rfm_new_buyers": c("is_buyer") & (c("r_score") == 5) & (c("f_score") == 1),
    }
    return {"customer": facts.select(
        "id", *[e.fill_null(False).alias(name) for name, e in segments.items()])}
