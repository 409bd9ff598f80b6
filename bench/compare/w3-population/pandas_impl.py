"""W3 by hand with pandas: the segments of segments.segl, computed exactly (whole numbers, no
rounding) from segl's definitions, as in polars_impl.py: with r the lowest rank among equal
values (ascending) and n the known values of the group, percentile >= p/q  <=>
(r - 1) * q >= p * (n - 1); ntile(k) = floor((r - 1) * k / (n - 1)) + 1, at most k. Shares
compare money in cents. Unknown values are ranked apart (and are in no such segment)."""

import numpy as np
import pandas as pd


def asc_rank(values, group=None):
    keys = [values.isna()] if group is None else [group, values.isna()]
    r = values.groupby(keys).rank(method="min")
    n = values.groupby(keys).transform("count")
    return r, n


def at_least_percentile(values, p, q, group=None):
    r, n = asc_rank(values, group)
    return ((r - 1) * q >= p * (n - 1)) & values.notna()


def ntile(values, k, group=None):
    r, n = asc_rank(values, group)
    g = np.where(n > 1, (r - 1) * k // n.where(n > 1, 2).sub(1), 0) + 1
    return pd.Series(np.minimum(g, k), index=values.index).where(values.notna())


def top_rank(values, group):
    return values.groupby(group).rank(method="min", ascending=False)


def cumulative(cents):
    # the total of all values at least as large as this one, ties in full
    per_value = cents.groupby(cents).sum().sort_index(ascending=False).cumsum()
    return cents.map(per_value)


def compute(read):
    c = read("customer", ["id", "arr", "region", "seats", "plan", "nps"])
    total = c["arr"].sum()
    cum = cumulative(c["arr"])
    customers = pd.DataFrame({
        "id": c["id"],
        "top_fifth_by_arr": at_least_percentile(c["arr"], 80, 100),
        "regional_top_tenth": at_least_percentile(c["arr"], 90, 100, c["region"]),
        "regional_top_10": top_rank(c["arr"], c["region"]) <= 10,
        "top_decile_seats_in_region": ntile(c["seats"], 10, c["region"]) == 10,
        "bottom_quartile_seats_in_plan": ntile(c["seats"], 4, c["plan"]) == 1,
        "regional_nps_leaders": at_least_percentile(c["nps"], 75, 100, c["region"]),
        "top_percent_in_region": ntile(c["arr"], 100, c["region"]) == 100,
        "big_share_customers": c["arr"] * 10_000 >= total,
        "customer_arr_core": cum * 2 <= total,
    })
    co = read("company", ["id", "arr", "region", "employees", "industry"])
    ctotal = co["arr"].sum()
    ccum = cumulative(co["arr"])
    companies = pd.DataFrame({
        "id": co["id"],
        "pareto_accounts": ccum * 100 <= 80 * ctotal,
        "top_accounts_by_arr": at_least_percentile(co["arr"], 80, 100),
        "regional_top_accounts": top_rank(co["arr"], co["region"]) <= 3,
        "big_accounts": co["arr"] * 1000 >= 5 * ctotal,
        "top_employers_in_industry": ntile(co["employees"], 5, co["industry"]) == 5,
        "account_abc": np.where(ccum * 100 <= 80 * ctotal, "class_a",
                                np.where(ccum * 100 <= 95 * ctotal, "class_b", "class_c")),
    })
    for df in (customers, companies):
        for col in df.columns[1:]:
            if col != "account_abc":
                df[col] = df[col].fillna(False).astype(bool)
    return {"customer": customers, "company": companies}
