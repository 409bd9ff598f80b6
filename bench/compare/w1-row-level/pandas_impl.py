"""W1 by hand with pandas: the twenty segments of segments.segl as of 2026-11-20
(Europe/Berlin). Comparisons with NaN/NaT are already False in pandas, which is segl's closed
world; negated tests are written as `not equal or unknown` explicitly. Money is in cents (see
drivers/common.py). Window bounds are local calendar days, both ends included."""

import datetime as dt

import numpy as np
import pandas as pd

AS_OF = pd.Timestamp(2026, 11, 20)


def any_of(lists, values):
    exploded = lists.explode()
    return exploded.isin(values).groupby(level=0).any().reindex(lists.index, fill_value=False)


def all_of(lists, values):
    exploded = lists.explode()
    out = pd.Series(True, index=lists.index)
    for v in values:
        out &= (exploded == v).groupby(level=0).any().reindex(lists.index, fill_value=False)
    return out


def anniversary(birthday):
    # The next birthday on or after the as-of date; 29 February is 28 February in other years.
    month, day = birthday.dt.month, birthday.dt.day
    def on(year):
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        d = np.where((month == 2) & (day == 29) & ~leap, 28, day)
        return pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": d}),
                              errors="coerce")
    this_year = on(pd.Series(AS_OF.year, index=birthday.index))
    return this_year.where(this_year >= AS_OF, on(pd.Series(AS_OF.year + 1, index=birthday.index)))


def compute(read):
    c = read("customer")
    login_day = c["last_login"].dt.tz_convert("Europe/Berlin").dt.tz_localize(None).dt.normalize()
    quarter_start = AS_OF.to_period("Q").start_time
    last_quarter_start = (AS_OF.to_period("Q") - 1).start_time
    bday = c["birthday"].where(c["birthday"].notna())
    out = pd.DataFrame({"id": c["id"]})
    out["enterprise_emea"] = (c["region"] == "EMEA") & (c["plan"] == "enterprise") & (
        c["arr"] >= 50_000_00)
    out["mid_sized_paying"] = c["plan"].isin(["starter", "pro", "enterprise"]) & c[
        "seats"].between(10, 49)
    out["nordic_paying"] = c["country"].isin(["SE", "NO", "DK", "FI", "IS"]) & (c["plan"] != "free")
    out["promoters"] = (c["nps"] >= 9).fillna(False).astype(bool)
    out["not_a_ten"] = (c["nps"] != 10).fillna(True).astype(bool)
    out["free_mail"] = c["email"].str.contains("@(?:gmail|yahoo|outlook)[.]com$", regex=True)
    out["munich_any_spelling"] = c["city"].str.lower().isin(["münchen", "munich", "muenchen"])
    out["active_last_30_days"] = login_day.between(AS_OF - pd.Timedelta(days=30), AS_OF)
    out["long_time_customers"] = c["signup_date"] < AS_OF - pd.DateOffset(years=1)
    out["dormant"] = c["last_login"].isna() | (login_day < AS_OF - pd.Timedelta(days=90))
    out["travel_fans"] = any_of(c["interests"], ["travel"])
    out["chat_integrations"] = any_of(c["apps"], ["slack", "teams"])
    out["reports_and_api"] = all_of(c["features_used"], ["reports", "api"])
    out["untagged"] = c["tags"].map(len) == 0
    per_seat = (c["arr"] / 100).astype("float64") / c["seats"].replace(0, np.nan)
    out["expensive_seats"] = per_seat > 2_000
    out["mobile_opted_in"] = c["email_opt_in"] & c["primary_device"].isin(["ios", "android"])
    out["signed_up_last_quarter"] = c["signup_date"].between(
        last_quarter_start, quarter_start - pd.Timedelta(days=1))
    out["birthday_next_fortnight"] = anniversary(bday).between(
        AS_OF, AS_OF + pd.Timedelta(days=14)) & c["email_opt_in"]
    out["b2c_paying"] = c["company_id"].isna() & (c["plan"] != "free")
    out["non_vip_non_deciders"] = (c["job_role"] != "decision_maker").fillna(True).astype(
        bool) & ~any_of(c["tags"], ["vip"])
    for col in out.columns[1:]:
        out[col] = out[col].fillna(False).astype(bool)
    return {"customer": out}
