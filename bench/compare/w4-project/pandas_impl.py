"""W4 by hand with pandas: the whole example project rules/ (as of 2026-11-20, Europe/Berlin),
one block per rule file.

How segl's meaning is expressed exactly:
- Unknown values: a test on a missing value is false. Comparisons on NaN/NaT/<NA> are made plain
  booleans with `yes()` (missing -> False) before they are combined; negated tests (`is not`,
  `does not contain`, `not in segment`) are the `not` of the positive test, so they include
  missing values.
- Money is int64 cents (drivers/common.py), so sums, shares and thresholds are exact. Averages
  are compared without dividing: avg(x) >= k  <=>  sum(x) >= k * count(x), with count > 0.
  `round(avg(amount)) >= 250` is `avg >= 249.50`, whether halves round up or to even.
- Time: dates are calendar days; a rolling window `in last N days` holds the days from the
  as-of date minus N to the as-of date, both included; `more than N days ago` is strictly before
  as-of minus N. Timestamps are UTC in the data and are judged by their day in Europe/Berlin: a
  window over a timestamp runs from local midnight of its first day to local midnight after the
  as-of day. `now` is the last instant of the as-of day. Months and years are calendar
  arithmetic (DateOffset clamps 31 January + 1 month to the end of February).
- Aggregates over related records: one group-by per related table (orders, tickets, events;
  customers for a company's contacts) computes every count and sum, merged back with a left
  join; counts and sums over no records are 0, max over none is unknown.
- Population functions, as docs/language.md defines them, in whole numbers: with r the lowest
  ascending rank among equal values and n the known values of the group,
  percentile >= p/q  <=>  (r - 1) * q >= p * (n - 1); ntile(k) = floor((r - 1) * k / (n - 1)) + 1,
  at most k (1 for a lone value); share and cumulative share compare cents with the total.
- Tiers: the first row that holds (np.select in row order); scores: int64 sums of the rows
  that hold.
"""

import numpy as np
import pandas as pd

AS_OF = pd.Timestamp(2026, 11, 20)
TZ = "Europe/Berlin"
DAY_END = pd.Timestamp(AS_OF + pd.Timedelta(days=1)).tz_localize(TZ)  # local midnight after today
NOW = DAY_END - pd.Timedelta(microseconds=1)

# Parameters (defaults from the rule files).
MIN_ENTERPRISE_ARR = 50_000_00          # geographic.segl, cents
STARTER_SEAT_LIMIT = 5                  # growth.segl
PRO_SEAT_LIMIT = 25
HEAVY_USAGE_EVENTS = 60
INACTIVE_DAYS = 60                      # lifecycle.segl
SUPPORT_HEAVY_TICKETS = 3               # needs.segl
HOLIDAY_START = pd.Timestamp(2025, 11, 28)  # seasonal.segl
HOLIDAY_END = pd.Timestamp(2025, 12, 31)
HIGH_VALUE_ARR = 25_000_00              # value.segl, cents


# --- Helpers ----------------------------------------------------------------------------------

def yes(cond):
    """A condition as plain booleans: unknown is false."""
    return cond.fillna(False).astype(bool)


def days_ago(n):
    return AS_OF - pd.Timedelta(days=n)


def in_last_days(dates, n):
    """A date column `in last N days`."""
    return dates.between(days_ago(n), AS_OF)


def since_local_day(day):
    """The first instant of a calendar day in the project's time zone."""
    return pd.Timestamp(day).tz_localize(TZ)


def ts_in_days(ts, first_day, last_day=AS_OF):
    """A timestamp column whose local day is between first_day and last_day, both included."""
    return (ts >= since_local_day(first_day)) & (
        ts < since_local_day(last_day + pd.Timedelta(days=1)))


def anniversary(dates):
    """The next yearly recurrence on or after the as-of date; 29 February is 28 February in
    years without one. Unknown where the date is unknown."""
    known = dates.dropna()
    month, day = known.dt.month, known.dt.day

    def on(year):
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        d = day.where(~((month == 2) & (day == 29)) | leap, 28)
        return pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": d}))

    this_year = on(AS_OF.year)
    return this_year.where(this_year >= AS_OF, on(AS_OF.year + 1)).reindex(dates.index)


def list_contains(lists):
    """For a list column, a function VALUES -> whether each list holds at least one of them."""
    exploded = lists.explode()

    def contains_any(*values):
        return exploded.isin(values).groupby(level=0).any().reindex(lists.index,
                                                                     fill_value=False)
    return contains_any


def asc_rank(values, group):
    """The lowest ascending rank among equal values, and the number of known values, within
    each group (unknown values ranked apart)."""
    keys = [values.isna()] if group is None else [group, values.isna()]
    r = values.groupby(keys).rank(method="min")
    n = values.groupby(keys).transform("count")
    return r, n


def at_least_percentile(values, p, q, group=None):
    r, n = asc_rank(values, group)
    return yes((r - 1) * q >= p * (n - 1)) & values.notna()


def ntile(values, k, group=None):
    r, n = asc_rank(values, group)
    g = np.where(n > 1, (r - 1) * k // (n - 1).where(n > 1, 1), 0) + 1
    return pd.Series(np.minimum(g, k), index=values.index).where(values.notna())


def cumulative(cents):
    """The total of all values at least as large as this one (ties in full)."""
    per_value = cents.groupby(cents).sum().sort_index(ascending=False).cumsum()
    return cents.map(per_value)


def countable(frame):
    """Yes/no columns as int8 before a group-by sum, which then counts the rows where they hold
    (pandas sums int8 several times faster than booleans; the sums come out int64)."""
    return frame.astype({k: "int8" for k in frame.columns if frame[k].dtype == bool})


def points(*rows):
    """A score: the sum of the points of every row whose condition holds."""
    return sum(np.where(yes(cond), pts, 0) for pts, cond in rows).astype("int64")


# --- Related tables: one group-by each, over only the columns the rules use -------------------

def order_totals(read):
    """Per customer: counts and sums over their orders, and the date of the last paid one
    (traits.segl, behavioural.segl, lifecycle.segl, seasonal.segl)."""
    o = read("order", ["customer_id", "placed_on", "amount", "status", "channel", "category",
                       "items"])
    on = o["placed_on"]
    paid = o["status"] == "paid"
    last_12_months = on.between(AS_OF - pd.DateOffset(months=12), AS_OF)
    last_quarter = AS_OF.to_period("Q") - 1  # the previous calendar quarter, whole
    f = pd.DataFrame({
        "customer_id": o["customer_id"],
        "orders": 1,
        "paid_orders": paid,
        "paid_amount": o["amount"].where(paid, 0),
        "paid_items": o["items"].where(paid, 0),
        "paid_90d": paid & in_last_days(on, 90),
        "orders_90d": in_last_days(on, 90),
        "not_in_app": o["channel"] != "app",
        "refunded_12m": (o["status"] == "refunded") & last_12_months,
        "paid_outdoor_12m": paid & last_12_months & o["category"].str.lower().str.contains(
            "outdoor", regex=False),
        "paid_holiday": paid & on.between(HOLIDAY_START, HOLIDAY_END),
        "paid_december": paid & (on.dt.month == 12),
        "paid_last_quarter": paid & on.between(last_quarter.start_time, last_quarter.end_time),
        "orders_last_year": on.dt.year == AS_OF.year - 1,
        "orders_this_year": on.dt.year == AS_OF.year,
        "last_paid_on": on.where(paid),
    })
    g = countable(f).groupby("customer_id")
    totals = g[[k for k in f.columns if k not in ("customer_id", "last_paid_on")]].sum()
    totals["last_paid_on"] = g["last_paid_on"].max()
    return totals


def ticket_totals(read):
    """Per customer: counts over their support tickets (traits.segl, needs.segl)."""
    t = read("ticket", ["customer_id", "opened_at", "priority", "status", "category", "csat"])
    at = t["opened_at"]
    csat_180d = t["csat"].where(ts_in_days(at, days_ago(180)))
    f = pd.DataFrame({
        "customer_id": t["customer_id"],
        "urgent_open": (t["status"] != "solved") & t["priority"].isin(["high", "urgent"]),
        "csat_sum_180d": csat_180d.fillna(0).astype("int64"),
        "csat_count_180d": csat_180d.notna(),
        "tickets_90d": ts_in_days(at, days_ago(90)),
        "onboarding": t["category"].str.lower().str.startswith("onboarding"),
        "billing_60d": ts_in_days(at, days_ago(60)) & t["category"].isin(
            ["billing", "invoice", "refund"]),
        "tickets_1y": ts_in_days(at, AS_OF - pd.DateOffset(years=1)),
    })
    return countable(f).groupby("customer_id").sum()


def event_totals(read):
    """Per customer: counts over their product events (traits.segl, behavioural.segl,
    lifecycle.segl, needs.segl, technographic.segl)."""
    e = read("event", ["customer_id", "occurred_at", "kind", "feature"])
    at = e["occurred_at"]
    last_30 = ts_in_days(at, days_ago(30))
    feature_use = e["kind"] == "feature_use"
    f = pd.DataFrame({
        "customer_id": e["customer_id"],
        "events_30d": last_30,
        "exports_14d": ts_in_days(at, days_ago(14)) & (e["kind"] == "export"),
        "events_30_to_90d_ago": ts_in_days(at, days_ago(90), days_ago(30)),
        "feature_uses": feature_use,
        "logins_30d": last_30 & (e["kind"] == "login"),
        "api_calls_30d": last_30 & (e["kind"] == "api_call"),
    })
    totals = countable(f).groupby("customer_id").sum()
    # count distinct(events.feature in last 30 days where kind is feature_use)
    totals["features_30d"] = (e.loc[last_30 & feature_use, ["customer_id", "feature"]]
                              .dropna().drop_duplicates()["customer_id"].value_counts())
    return totals


# --- compute ----------------------------------------------------------------------------------

def compute(read):
    c = read("customer")
    co = read("company", ["id", "industry", "employees", "region", "arr", "renewal_date"])

    # The local calendar day of each customer's last login (unknown without one).
    login_day = c["last_login"].dt.tz_convert(TZ).dt.tz_localize(None).dt.normalize()
    login_last_7 = yes(in_last_days(login_day, 7))
    login_last_30 = yes(in_last_days(login_day, 30))

    # The company of each customer (schema.segl: company: one company by company_id).
    by_company = co.set_index("id")
    industry = c["company_id"].map(by_company["industry"])
    employees = c["company_id"].map(by_company["employees"])

    # Aggregates over orders, tickets and events: over no records, counts and sums are 0 and
    # the last paid date is unknown.
    x = (c[["id"]].join(order_totals(read), on="id").join(ticket_totals(read), on="id")
         .join(event_totals(read), on="id"))
    counts = [k for k in x.columns if k not in ("id", "last_paid_on")]
    x[counts] = x[counts].fillna(0).astype("int64")

    # --- traits.segl
    paid_order_count = x["paid_orders"]
    is_buyer = paid_order_count >= 1
    lifetime_value = x["paid_amount"]
    last_order_date = x["last_paid_on"]
    days_since_last_order = (AS_OF - last_order_date).dt.days
    events_last_30_days = x["events_30d"]
    features_last_30_days = x["features_30d"]
    tickets_last_90_days = x["tickets_90d"]
    age_this_year = AS_OF.year - c["birthday"].dt.year
    nps = c["nps"]
    nps_or_neutral = nps.fillna(7)

    interests = list_contains(c["interests"])
    apps = list_contains(c["apps"])
    features_used = list_contains(c["features_used"])
    tags = list_contains(c["tags"])
    no_apps = c["apps"].map(len) == 0

    out = pd.DataFrame({"id": c["id"]})

    # --- demographic.segl (decision_makers is used by b2b.segl)
    age_group = np.select(
        [c["birthday"].isna(), yes(age_this_year < 25), yes(age_this_year.between(25, 34)),
         yes(age_this_year.between(35, 49))],
        ["age_unknown", "under_25", "age_25_34", "age_35_49"], "age_50_plus")
    decision_makers = yes(c["job_role"] == "decision_maker")
    personal_email = yes(c["email"].str.contains(
        r"@(?:gmail|googlemail|yahoo|hotmail|outlook|gmx|web)[.][a-z]+$", case=False,
        regex=True))

    # --- b2b.segl (contact-level segments)
    out["regulated_industry_contacts"] = yes(industry.isin(["finance", "healthcare"]))
    out["software_decision_makers"] = yes(industry == "software") & decision_makers
    out["large_company_contacts"] = yes(employees >= 1_000)
    out["unassigned_paying_contacts"] = c["company_id"].isna() & (c["plan"] != "free")

    # --- behavioural.segl
    recent_buyers = yes(in_last_days(last_order_date, 30))
    out["frequent_buyers"] = x["paid_90d"] >= 3
    out["recent_buyers"] = recent_buyers
    out["lapsed_repeat_buyers"] = (paid_order_count >= 2) & yes(days_since_last_order > 180)
    # avg(orders.items where status is paid) >= 5
    out["big_basket_buyers"] = is_buyer & (x["paid_items"] >= 5 * paid_order_count)
    # every(orders where channel is app): no order outside the app
    out["app_only_shoppers"] = (x["orders"] >= 2) & (x["not_in_app"] == 0)
    out["frequent_refunders"] = x["refunded_12m"] >= 2
    out["highly_engaged"] = (events_last_30_days >= 40) & login_last_7
    out["feature_explorers"] = features_last_30_days >= 5
    out["recent_exporters"] = x["exports_14d"] >= 1
    out["outdoor_category_buyers"] = x["paid_outdoor_12m"] >= 1
    # average_order_value = round(avg(amount)) >= 250  <=>  avg >= 249.50
    out["premium_basket_buyers"] = (paid_order_count >= 2) & (
        lifetime_value * 2 >= 499_00 * paid_order_count)
    out["review_request_audience"] = recent_buyers & yes(c["email_opt_in"]) & yes(
        nps_or_neutral >= 7)

    # --- demographic.segl
    out["young_professionals"] = (age_group == "age_25_34") & yes(
        c["job_role"].isin(["manager", "user"]))
    out["decision_makers"] = decision_makers
    out["billing_contacts"] = yes(c["job_role"] == "billing") & yes(c["email_opt_in"])
    out["birthday_this_week"] = yes(
        anniversary(c["birthday"]).between(AS_OF, AS_OF + pd.Timedelta(days=7))) & yes(
        c["email_opt_in"])
    out["incomplete_profiles"] = (c["first_name"].isna() | c["birthday"].isna()
                                  | c["job_role"].isna())
    out["personal_email_addresses"] = personal_email

    # --- geographic.segl
    out["dach_customers"] = c["country"].isin(["DE", "AT", "CH"])
    out["north_america_paying"] = (c["region"] == "NA") & (c["plan"] != "free")
    out["enterprise_emea"] = (c["region"] == "EMEA") & (c["plan"] == "enterprise") & (
        c["arr"] >= MIN_ENTERPRISE_ARR)
    out["emerging_market_newcomers"] = c["region"].isin(["APAC", "LATAM"]) & (
        c["plan"] != "free") & c["signup_date"].between(AS_OF - pd.DateOffset(months=12), AS_OF)
    out["munich_customers"] = (c["country"] == "DE") & yes(
        c["city"].str.lower().isin(["münchen", "munich", "muenchen"]))
    out["outside_core_markets"] = ~c["country"].isin(["DE", "AT", "CH", "FR", "GB", "US", "CA"])

    # --- needs.segl
    urgent_tickets_open = x["urgent_open"] >= 1
    # avg(tickets.csat in last 180 days) < 3
    unhappy_with_support = (x["csat_count_180d"] >= 1) & (
        x["csat_sum_180d"] < 3 * x["csat_count_180d"])

    # --- scores.segl: health_score (growth.segl uses it)
    health_score = points(
        (25, login_last_7),
        (10, login_day.between(days_ago(30), days_ago(8))),  # between 8 and 30 days ago
        (-20, login_day < days_ago(30)),
        (-10, c["last_login"].isna()),
        (15, features_last_30_days >= 3),
        (15, nps >= 9),
        (-15, nps <= 6),
        (-20, urgent_tickets_open),
        (-10, unhappy_with_support),
        (10, ~no_apps),
        (5, paid_order_count >= 1),
    )

    # --- growth.segl
    seats_near_limit = yes(
        ((c["plan"] == "starter") & (c["seats"] >= STARTER_SEAT_LIMIT - 1))
        | ((c["plan"] == "pro") & (c["seats"] >= PRO_SEAT_LIMIT * 0.8)))
    heavy_usage_lower_plan = c["plan"].isin(["free", "starter"]) & (
        events_last_30_days >= HEAVY_USAGE_EVENTS)
    out["seats_near_limit"] = seats_near_limit
    out["heavy_usage_lower_plan"] = heavy_usage_lower_plan
    out["upsell_candidates"] = (seats_near_limit | heavy_usage_lower_plan) & (
        ~urgent_tickets_open) & (health_score >= 40)
    out["integration_cross_sell"] = c["plan"].isin(["pro", "enterprise"]) & ~apps(
        "salesforce") & yes(industry.isin(["software", "finance"]))

    # --- lifecycle.segl
    tenure_band = np.select(
        [in_last_days(c["signup_date"], 30),
         c["signup_date"].between(AS_OF - pd.DateOffset(years=1), AS_OF),
         c["signup_date"].between(AS_OF - pd.DateOffset(years=2), AS_OF)],
        ["first_month", "first_year", "two_years"], "long_standing")
    inactive_users = c["last_login"].isna() | yes((AS_OF - login_day).dt.days > INACTIVE_DAYS)
    out["new_customers"] = tenure_band == "first_month"
    out["loyal_customers"] = (c["signup_date"] < AS_OF - pd.DateOffset(years=2)) & (
        login_last_30) & (paid_order_count >= 5)
    out["inactive_users"] = inactive_users
    out["dormant_paying_customers"] = (c["plan"] != "free") & inactive_users & (
        x["orders_90d"] == 0)
    out["reactivated_users"] = login_last_7 & (c["signup_date"] < days_ago(90)) & (
        x["events_30_to_90d_ago"] == 0)
    out["signup_anniversary_soon"] = yes(anniversary(c["signup_date"]).between(
        AS_OF, AS_OF + pd.Timedelta(days=14))) & (
        c["signup_date"] < AS_OF - pd.DateOffset(months=6))
    out["churn_tagged"] = tags("churned", "Churned", "cancelling", "Cancelling", "canceling")
    trial_ends_on = c["signup_date"] + pd.DateOffset(months=1)
    out["trial_ending_soon"] = (c["plan"] == "free") & trial_ends_on.between(
        AS_OF, AS_OF + pd.Timedelta(days=3))
    out["active_last_36_hours"] = yes((NOW - c["last_login"]) < pd.Timedelta(hours=36))

    # --- needs.segl
    out["support_heavy"] = tickets_last_90_days >= SUPPORT_HEAVY_TICKETS
    out["urgent_tickets_open"] = urgent_tickets_open
    out["unhappy_with_support"] = unhappy_with_support
    out["struggling_onboarding"] = in_last_days(c["signup_date"], 30) & (
        (x["feature_uses"] < 3) | (x["onboarding"] >= 1))
    out["billing_questions"] = x["billing_60d"] >= 1
    out["silent_detractors"] = yes(nps <= 6) & (x["tickets_1y"] == 0)

    # --- psychographic.segl
    out["sustainability_minded"] = interests("sustainability", "climate", "outdoors")
    out["data_enthusiasts"] = interests("analytics") & interests("automation")
    out["interests_unknown"] = (c["interests"].map(len) == 0) & yes(c["email_opt_in"])

    # --- rfm.segl: quintiles among buyers (non-buyers ranked apart, then no_purchases)
    r_score = 6 - ntile(days_since_last_order, 5, is_buyer)
    f_score = ntile(paid_order_count, 5, is_buyer)
    m_score = ntile(lifetime_value, 5, is_buyer)
    fm_score = f_score + m_score
    rfm_class = np.select(
        [~is_buyer,
         yes((r_score >= 4) & (fm_score >= 9)),
         yes((r_score >= 3) & (fm_score >= 7)),
         yes((r_score == 5) & (f_score == 1)),
         yes((r_score >= 4) & (fm_score >= 5)),
         yes(r_score >= 4),
         yes((r_score == 3) & (fm_score >= 5)),
         yes(r_score == 3),
         yes((r_score <= 2) & (fm_score >= 9)),
         yes((r_score <= 2) & (fm_score >= 6)),
         yes(r_score == 2)],
        ["no_purchases", "champions", "loyal", "new_buyers", "potential_loyalists", "promising",
         "need_attention", "about_to_sleep", "cannot_lose_them", "at_risk", "hibernating"],
        "lost")
    out["rfm_champions"] = rfm_class == "champions"
    out["rfm_save_list"] = np.isin(rfm_class, ["at_risk", "cannot_lose_them"])
    out["rfm_nurture"] = np.isin(rfm_class, ["new_buyers", "promising", "potential_loyalists"])

    # --- scores.segl
    health_band = np.select([health_score >= 40, health_score >= 0], ["healthy", "neutral"],
                            "unhealthy")
    lead_score = points(
        (20, c["job_role"] == "decision_maker"),
        (10, c["job_role"] == "manager"),
        (15, employees >= 200),
        (10, industry.isin(["software", "finance"])),
        (15, events_last_30_days >= 20),
        (10, features_used("reports", "automations")),
        (10, c["channel"].isin(["referral", "partner"])),
        (5, c["email_opt_in"]),
        (-15, personal_email),
        (-30, c["plan"].isin(["pro", "enterprise"])),
    )
    out["unhealthy_paying_customers"] = (c["plan"] != "free") & (health_band == "unhealthy")
    out["sales_ready_leads"] = c["plan"].isin(["free", "starter"]) & (lead_score >= 50)

    # --- seasonal.segl
    out["last_holiday_buyers"] = x["paid_holiday"] >= 1
    out["december_regulars"] = x["paid_december"] >= 2
    out["last_quarter_buyers"] = x["paid_last_quarter"] >= 1
    out["lapsed_since_last_year"] = (x["orders_last_year"] >= 1) & (x["orders_this_year"] == 0)
    out["birthday_month"] = yes(c["email_opt_in"]) & yes(c["birthday"].dt.month == AS_OF.month)

    # --- technographic.segl
    out["mobile_first"] = c["primary_device"].isin(["ios", "android"]) & (x["logins_30d"] >= 5)
    out["crm_integrated"] = apps("salesforce", "hubspot", "pipedrive")
    out["paying_without_integrations"] = no_apps & (c["plan"] != "free")
    out["api_power_users"] = x["api_calls_30d"] >= 50
    out["slack_without_reports"] = apps("slack") & ~features_used("reports")

    # --- value.segl
    total_paid = lifetime_value.sum()
    out["high_value_customers"] = c["arr"] >= HIGH_VALUE_ARR
    out["top_20_percent_customers"] = at_least_percentile(c["arr"], 80, 100)
    # share of total lifetime_value >= 2%  (unknown when the total is 0)
    out["big_lifetime_spenders"] = (total_paid > 0) & (lifetime_value * 100 >= 2 * total_paid)

    segments = out.columns[1:]
    out[segments] = out[segments].fillna(False).astype(bool)

    # tiers and scores
    out["age_group"] = age_group
    out["tenure_band"] = tenure_band
    out["rfm_class"] = rfm_class
    out["health_band"] = health_band
    out["arr_band"] = np.select(
        [c["arr"] >= 100_000_00, c["arr"] >= HIGH_VALUE_ARR, c["arr"] >= 5_000_00,
         c["arr"] > 0],
        ["strategic", "high", "mid", "low"], "no_revenue")
    out["health_score"] = health_score
    out["lead_score"] = lead_score

    # --- Companies: one group-by over their contacts (traits.segl, b2b.segl, scores.segl)
    f = pd.DataFrame({
        "company_id": c["company_id"],
        "contacts": 1,
        "decision_makers": decision_makers,
        "active_contacts": login_last_30,
        "detractors": yes(nps <= 6),
        "promoters": yes(nps >= 9),
    })
    contacts = countable(f).groupby("company_id").sum()
    contacts["roles"] = c.groupby("company_id")["job_role"].nunique()  # known roles only
    y = co[["id"]].join(contacts, on="id").fillna(0).astype({k: "int64" for k in contacts})
    contact_count = y["contacts"]
    active_contacts = y["active_contacts"]
    renewal = co["renewal_date"]

    def renews_within(n):
        return yes(renewal.between(AS_OF, AS_OF + pd.Timedelta(days=n)))

    total_arr = co["arr"].sum()
    cum = cumulative(co["arr"])
    companies = pd.DataFrame({"id": co["id"]})
    companies["accounts_with_decision_maker"] = y["decision_makers"] >= 1
    companies["single_threaded_accounts"] = (contact_count == 1) & (co["arr"] > 0)
    companies["multi_threaded_accounts"] = (contact_count >= 3) & (y["roles"] >= 2)
    companies["renewals_next_90_days"] = renews_within(90)
    companies["renewal_at_risk"] = renews_within(120) & (
        (active_contacts == 0) | (y["detractors"] >= 1))
    # growth.segl: active_contacts >= contact_count * 0.8
    companies["expanding_accounts"] = (active_contacts >= 5) & (
        active_contacts * 5 >= contact_count * 4)
    # value.segl
    companies["top_accounts_by_arr"] = at_least_percentile(co["arr"], 80, 100)
    # cumulative share of arr <= 80% (unknown when the total is 0)
    pareto = (total_arr > 0) & (cum * 100 <= 80 * total_arr)
    companies["pareto_accounts"] = pareto
    companies["regional_top_accounts"] = co["arr"].groupby(co["region"]).rank(
        method="min", ascending=False) <= 3
    companies["company_size"] = np.select(
        [co["employees"] >= 1_000, co["employees"] >= 100], ["large_enterprise", "mid_market"],
        "small_business")
    companies["account_abc"] = np.select(
        [pareto, (total_arr > 0) & (cum * 100 <= 95 * total_arr)], ["class_a", "class_b"],
        "class_c")
    companies["account_health"] = points(
        (30, active_contacts >= 3),
        (10, active_contacts.between(1, 2)),
        (-30, active_contacts == 0),
        (20, y["promoters"] >= 1),
        (-20, y["detractors"] >= 1),
        (-10, renews_within(60) & (active_contacts <= 1)),
    )
    return {"customer": out, "company": companies}
