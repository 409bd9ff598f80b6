"""W1 by hand with Polars (lazy): the twenty segments of segments.segl as of 2026-11-20
(Europe/Berlin). Polars' three-valued logic matches segl's closed world for conditions without
`not`: each segment ends in fill_null(False); negated tests use ne_missing so that unknowns are
kept. Window bounds are local calendar days, both ends included."""

import datetime as dt

import polars as pl

AS_OF = dt.date(2026, 11, 20)


def build(scan):
    c = pl.col
    login_day = c("last_login").dt.convert_time_zone("Europe/Berlin").dt.date()
    years_old = AS_OF.year - c("birthday").dt.year()
    this_year = c("birthday").dt.offset_by(pl.format("{}y", years_old))
    next_year = c("birthday").dt.offset_by(pl.format("{}y", years_old + 1))
    anniversary = pl.when(this_year >= AS_OF).then(this_year).otherwise(next_year)
    quarter_start = dt.date(AS_OF.year, (AS_OF.month - 1) // 3 * 3 + 1, 1)
    last_quarter_start = dt.date(quarter_start.year - (quarter_start.month == 1),
                                 (quarter_start.month - 4) % 12 + 1, 1)
    one_year_ago = AS_OF.replace(year=AS_OF.year - 1)
    segments = {
        "enterprise_emea": (c("region") == "EMEA") & (c("plan") == "enterprise")
        & (c("arr") >= 50_000),
        "mid_sized_paying": c("plan").is_in(["starter", "pro", "enterprise"])
        & c("seats").is_between(10, 49),
        "nordic_paying": c("country").is_in(["SE", "NO", "DK", "FI", "IS"])
        & (c("plan") != "free"),
        "promoters": c("nps") >= 9,
        "not_a_ten": c("nps").ne_missing(10),
        "free_mail": c("email").str.contains("@(gmail|yahoo|outlook)[.]com$"),
        "munich_any_spelling": c("city").str.to_lowercase().is_in(["münchen", "munich",
                                                                   "muenchen"]),
        "active_last_30_days": login_day.is_between(AS_OF - dt.timedelta(days=30), AS_OF),
        "long_time_customers": c("signup_date") < one_year_ago,
        "dormant": c("last_login").is_null()
        | (login_day < AS_OF - dt.timedelta(days=90)),
        "travel_fans": c("interests").list.contains("travel"),
        "chat_integrations": c("apps").list.contains("slack") | c("apps").list.contains("teams"),
        "reports_and_api": c("features_used").list.contains("reports")
        & c("features_used").list.contains("api"),
        "untagged": c("tags").list.len() == 0,
        "expensive_seats": pl.when(c("seats") != 0)
        .then(c("arr").cast(pl.Float64) / c("seats") > 2_000),
        "mobile_opted_in": c("email_opt_in") & c("primary_device").is_in(["ios", "android"]),
        "signed_up_last_quarter": c("signup_date").is_between(
            last_quarter_start, quarter_start - dt.timedelta(days=1)),
        "birthday_next_fortnight": anniversary.is_between(AS_OF, AS_OF + dt.timedelta(days=14))
        & c("email_opt_in"),
        "b2c_paying": c("company_id").is_null() & (c("plan") != "free"),
        "non_vip_non_deciders": c("job_role").ne_missing("decision_maker")
        & ~c("tags").list.contains("vip"),
    }
    customers = scan("customer").select(
        c("id"), *[e.fill_null(False).alias(name) for name, e in segments.items()])
    return {"customer": customers}
