"""W2 by hand with pandas: the segments of segments.segl as of 2026-11-20. One group-by over
the orders computes every aggregate per customer (money in cents, so sums and the average
threshold are exact); counts and sums over no orders are 0, the latest date unknown. Quintiles
are computed exactly as segl defines them: with r the lowest rank among equal values and n the
known values of the group, floor((r - 1) * 5 / (n - 1)) + 1, at most 5."""

import numpy as np
import pandas as pd

AS_OF = pd.Timestamp(2026, 11, 20)


def days(n):
    return AS_OF - pd.Timedelta(days=n)


def quintile(values, groups):
    known = values.notna()
    keys = [groups, known]
    r = values.groupby(keys).rank(method="min")
    n = values.groupby(keys).transform("count")
    q = np.where(n > 1, (r - 1) * 5 // (n - 1).where(n > 1, 1), 0) + 1
    return pd.Series(np.minimum(q, 5), index=values.index).where(known)


def compute(read):
    c = read("customer", ["id"])
    o = read("order", ["customer_id", "placed_on", "amount", "status", "channel", "category"])
    paid = o["status"] == "paid"
    on = o["placed_on"]
    amount = o["amount"]
    f = pd.DataFrame({
        "customer_id": o["customer_id"],
        "orders": 1,
        "paid_orders": paid.astype("int64"),
        "paid_total": amount.where(paid, 0),
        "last_paid_on": on.where(paid),
        "paid_30d": (paid & on.between(days(30), AS_OF)).astype("int64"),
        "paid_total_90d": amount.where(paid & on.between(days(90), AS_OF), 0),
        "big_paid_7d": (paid & (amount >= 500_00) & on.between(days(7), AS_OF)).astype("int64"),
        "refunded": (o["status"] == "refunded").astype("int64"),
        "not_via_sales": (o["channel"] != "sales").astype("int64"),
        "paid_total_this_quarter": amount.where(
            paid & on.between(pd.Timestamp(2026, 10, 1), pd.Timestamp(2026, 12, 31)), 0),
        "category_365d": o["category"].where(on.between(days(365), AS_OF)),
        "paid_30_to_90d_ago": (paid & on.between(days(90), days(30))).astype("int64"),
        "orders_29d": on.between(days(29), AS_OF).astype("int64"),
    })
    g = f.groupby("customer_id")
    agg = g.agg({k: "sum" for k in f.columns if k not in ("customer_id", "last_paid_on",
                                                          "category_365d")})
    agg["last_paid_on"] = g["last_paid_on"].max()
    agg["categories_365d"] = g["category_365d"].nunique()
    x = c.join(agg, on="id")
    counts = [k for k in agg.columns if k != "last_paid_on"]
    x[counts] = x[counts].fillna(0).astype("int64")
    is_buyer = x["paid_orders"] >= 1
    days_since = (AS_OF - x["last_paid_on"]).dt.days
    r_score = 6 - quintile(days_since, is_buyer)
    f_score = quintile(x["paid_orders"], is_buyer)
    m_score = quintile(x["paid_total"], is_buyer)
    fm = f_score + m_score
    out = pd.DataFrame({"id": x["id"]})
    out["frequent_recent"] = x["paid_30d"] >= 2
    out["big_spenders_90_days"] = x["paid_total_90d"] > 1_000_00
    out["lapsed_buyers"] = is_buyer & (days_since > 180)
    out["recent_big_order"] = x["big_paid_7d"] >= 1
    out["frequent_refunders"] = x["refunded"] >= 2
    out["sales_only"] = (x["orders"] >= 1) & (x["not_via_sales"] == 0)
    # exact: total > 250 * count, instead of a rounded average
    out["high_average_order"] = is_buyer & (x["paid_total"] > x["paid_orders"] * 250_00)
    out["spent_this_quarter"] = x["paid_total_this_quarter"] > 500_00
    out["broad_shoppers"] = x["categories_365d"] >= 4
    out["quiet_after_buying"] = (x["paid_30_to_90d_ago"] >= 1) & (x["orders_29d"] == 0)
    out["never_paid"] = ~is_buyer
    out["rfm_champions"] = is_buyer & (r_score >= 4) & (fm >= 9)
    out["rfm_at_risk"] = is_buyer & (r_score <= 2) & (fm >= 6)
    out["rfm_new_buyers"] = is_buyer & (r_score == 5) & (f_score == 1)
    for col in out.columns[1:]:
        out[col] = out[col].fillna(False).astype(bool)
    return {"customer": out}
