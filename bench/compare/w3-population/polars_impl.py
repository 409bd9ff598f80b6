"""W3 by hand with Polars (lazy): the segments of segments.segl, computed exactly (whole
numbers, no rounding) from segl's definitions. With r the lowest rank among equal values
(ascending) and n the known values of the group: percentile >= p/q  <=>  (r - 1) * q >= p * (n - 1);
ntile(k) = floor((r - 1) * k / (n - 1)) + 1, at most k. Shares compare money in cents:
value / total >= p/q  <=>  value * q >= p * total. Unknown values are ranked apart."""

import polars as pl


def asc_rank(value, *group):
    c = pl.col
    keys = [*group, c(value).is_null()]
    if keys:
        return c(value).rank("min").over(keys), c(value).count().over(keys)
    return c(value).rank("min"), c(value).count()


def at_least_percentile(value, p, q, *group):
    r, n = asc_rank(value, *group)
    return (r - 1) * q >= p * (n - 1)


def ntile(value, k, *group):
    r, n = asc_rank(value, *group)
    group_ = pl.when(n > 1).then((r - 1) * k // (n - 1)).otherwise(0) + 1
    return pl.when(pl.col(value).is_not_null()).then(pl.min_horizontal(group_, pl.lit(k)))


def top_rank(value, *group):
    return pl.col(value).rank("min", descending=True).over(list(group)) if group else \
        pl.col(value).rank("min", descending=True)


def cents(value):
    return (pl.col(value) * 100).cast(pl.Int64)


def with_cumulative(lf):
    # the total of all values at least as large as this one, ties in full: add up from the
    # largest value down, then give ties the running total of their last row
    c = pl.col
    return (lf.sort("arr", descending=True)
            .with_columns(c("arr_cents").cum_sum().alias("running"))
            .with_columns(c("running").max().over("arr").alias("cumulative")))


def build(scan):
    c = pl.col
    cust = scan("customer").select("id", "arr", "region", "seats", "plan", "nps").with_columns(
        cents("arr").alias("arr_cents"))
    total = c("arr_cents").sum()
    cust = with_cumulative(cust)
    customers = cust.select(
        "id",
        at_least_percentile("arr", 80, 100).alias("top_fifth_by_arr"),
        at_least_percentile("arr", 90, 100, "region").alias("regional_top_tenth"),
        (top_rank("arr", "region") <= 10).alias("regional_top_10"),
        (ntile("seats", 10, "region") == 10).alias("top_decile_seats_in_region"),
        (ntile("seats", 4, "plan") == 1).alias("bottom_quartile_seats_in_plan"),
        (c("nps").is_not_null() & at_least_percentile("nps", 75, 100, "region"))
        .fill_null(False).alias("regional_nps_leaders"),
        (ntile("arr", 100, "region") == 100).alias("top_percent_in_region"),
        (c("arr_cents") * 10_000 >= total).alias("big_share_customers"),
        (c("cumulative") * 2 <= total).alias("customer_arr_core"),
    )
    comp = scan("company").select("id", "arr", "region", "employees", "industry").with_columns(
        cents("arr").alias("arr_cents"))
    comp = with_cumulative(comp)
    ctotal = c("arr_cents").sum()
    companies = comp.select(
        "id",
        (c("cumulative") * 100 <= 80 * ctotal).alias("pareto_accounts"),
        at_least_percentile("arr", 80, 100).alias("top_accounts_by_arr"),
        (top_rank("arr", "region") <= 3).alias("regional_top_accounts"),
        (c("arr_cents") * 1000 >= 5 * ctotal).alias("big_accounts"),
        (ntile("employees", 5, "industry") == 5).alias("top_employers_in_industry"),
        pl.when(c("cumulative") * 100 <= 80 * ctotal).then(pl.lit("class_a"))
        .when(c("cumulative") * 100 <= 95 * ctotal).then(pl.lit("class_b"))
        .otherwise(pl.lit("class_c")).alias("account_abc"),
    )
    return {"customer": customers, "company": companies}
