"""W4 by hand with Polars (lazy): the whole example project rules/ as of 2026-11-20
(Europe/Berlin): 69 customer segments, 5 tier sets and 2 scores per customer; 9 segments,
2 tier sets and a score per company.

How segl's meaning is expressed exactly:
- Time. Rolling windows take whole local days at both ends. Dates are compared with calendar
  dates; timestamps (UTC in the data) with the UTC instants at which the local Berlin days
  begin, so "in last 30 days" is [midnight of 21 Oct, midnight of 21 Nov) and no timestamp
  needs converting. `now` is the last microsecond of the as-of day. Months and years are
  calendar arithmetic (offset_by clamps 31 January + 1 month to the end of February, and a
  29 February anniversary to 28 February in other years).
- Unknown values. Polars' three-valued logic is segl's for conditions without `not`: every
  segment and tier row ends in fill_null(False), and a score row that is unknown adds nothing.
  The negated tests in rules/ are all on required fields, so they never meet an unknown.
- Aggregates. Each related table is read once and grouped once: orders, tickets and events per
  customer, contacts per company. The yes/no conditions are worked out row by row first, so
  every aggregate is a plain column sum; counts and sums over no records are 0 after the join.
  Averages are compared exactly: avg(x) >= 5 is sum(x) >= 5 * count(x) over the records with a
  known x, and round(avg(amount)) >= 250 is sum >= 249.50 * count (money in integer cents).
- Populations. With r the lowest rank among equal values (ascending) and n the known values of
  the group: percentile >= 80% <=> (r - 1) * 5 >= 4 * (n - 1) (a lone value is 0%);
  quintile = floor((r - 1) * 5 / (n - 1)) + 1, at most 5; shares and cumulative shares compare
  integer cents (value / total >= 2% <=> value * 100 >= 2 * total); a cumulative share adds
  up every value at least as large, ties in full.
- Order of work, for speed: the customer table's own rules (lists, texts, dates) are worked out
  before the per-customer aggregates are joined on, so the joins carry yes/no columns rather
  than lists."""

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl

c = pl.col

AS_OF = dt.date(2026, 11, 20)
TZ = ZoneInfo("Europe/Berlin")

# Parameters: geographic.segl, growth.segl, lifecycle.segl, needs.segl, value.segl,
# seasonal.segl.
MIN_ENTERPRISE_ARR = 50_000
STARTER_SEAT_LIMIT = 5
PRO_SEAT_LIMIT = 25
HEAVY_USAGE_EVENTS = 60
INACTIVE_DAYS = 60
SUPPORT_HEAVY_TICKETS = 3
HIGH_VALUE_ARR = 25_000
HOLIDAY = (dt.date(2025, 11, 28), dt.date(2025, 12, 31))


# --- Time -------------------------------------------------------------------------------------

def days_ago(n):
    return AS_OF - dt.timedelta(days=n)


def months_ago(n):
    months = AS_OF.year * 12 + AS_OF.month - 1 - n
    return AS_OF.replace(year=months // 12, month=months % 12 + 1)  # the 20th: in every month


def midnight(day):
    """The UTC instant at which a local (Berlin) day begins."""
    return dt.datetime.combine(day, dt.time(), tzinfo=TZ).astimezone(dt.timezone.utc)


TOMORROW = midnight(AS_OF + dt.timedelta(days=1))
NOW = TOMORROW - dt.timedelta(microseconds=1)  # the as-of moment: the end of the as-of day

# Calendar periods (seasonal.segl): last quarter, last year, this year.
QUARTER_START = dt.date(AS_OF.year, (AS_OF.month - 1) // 3 * 3 + 1, 1)
LAST_QUARTER = (dt.date(QUARTER_START.year - (QUARTER_START.month == 1),
                        (QUARTER_START.month - 4) % 12 + 1, 1),
                QUARTER_START - dt.timedelta(days=1))
LAST_YEAR = (dt.date(AS_OF.year - 1, 1, 1), dt.date(AS_OF.year - 1, 12, 31))
THIS_YEAR = (dt.date(AS_OF.year, 1, 1), dt.date(AS_OF.year, 12, 31))


def ts_since(ts, day):
    """A timestamp from the local day `day` up to the end of the as-of day."""
    return (ts >= midnight(day)) & (ts < TOMORROW)


def ts_in_last_days(ts, n):
    return ts_since(ts, days_ago(n))


def date_in_last_days(date, n):
    return date.is_between(days_ago(n), AS_OF)


def date_in_next_days(date, n):
    return date.is_between(AS_OF, AS_OF + dt.timedelta(days=n))


def anniversary(date):
    """The next yearly recurrence of a date, on or after the as-of date."""
    years = AS_OF.year - date.dt.year()
    this_year = date.dt.offset_by(pl.format("{}y", years))
    next_year = date.dt.offset_by(pl.format("{}y", years + 1))
    return pl.when(this_year >= AS_OF).then(this_year).otherwise(next_year)


# --- Values and populations -------------------------------------------------------------------

def cents(money):
    return (money * 100).cast(pl.Int64)


def contains_any(lst, values):
    return pl.any_horizontal(c(lst).list.contains(v) for v in values)


def asc_rank(value, *group):
    """The lowest ascending rank among equal values, and the number of known values, per group;
    unknown values are ranked apart."""
    keys = [*group, c(value).is_null()]
    return (c(value).rank("min").over(keys).cast(pl.Int64),
            c(value).count().over(keys).cast(pl.Int64))


def at_least_80th_percentile(value):
    r, n = asc_rank(value)
    return (n > 1) & ((r - 1) * 5 >= 4 * (n - 1))


def quintile(value, group):
    r, n = asc_rank(value, group)
    q = pl.when(n > 1).then((r - 1) * 5 // (n - 1)).otherwise(0) + 1
    return pl.when(c(value).is_not_null()).then(pl.min_horizontal(q, pl.lit(5)))


def with_cumulative(lf, value):
    """`cumulative`: the sum of all values at least as large as this one. A running total from
    the largest value down, each tie taking the running total of its last row."""
    return (lf.sort(value, descending=True)
            .with_columns(c(value).cum_sum().alias("running"))
            .with_columns(c("running").max().over(value).alias("cumulative")))


# --- Segments, tiers, scores ------------------------------------------------------------------

def segments(**conditions):
    """Being in a segment is yes or no: a condition on an unknown value does not hold."""
    return [cond.fill_null(False).alias(name) for name, cond in conditions.items()]


def tiers(*rows, otherwise):
    """The first row whose condition holds (a condition that is unknown does not hold)."""
    (cond, name), *rest = rows
    expr = pl.when(cond.fill_null(False)).then(pl.lit(name))
    for cond, name in rest:
        expr = expr.when(cond.fill_null(False)).then(pl.lit(name))
    return expr.otherwise(pl.lit(otherwise))


def score(*rows):
    """Points of every row that holds; 0 when none does."""
    return pl.sum_horizontal(
        pl.when(cond.fill_null(False)).then(points).otherwise(0) for points, cond in rows
    ).cast(pl.Int64)


# --- Related records, one group-by per table --------------------------------------------------

def per_customer(rows, counts, **aggregates):
    """Per customer: how many records pass each condition of `counts` (worked out row by row
    first) and the other aggregates."""
    return (rows.with_columns(**counts).group_by("customer_id")
            .agg(c(*counts).sum(), **aggregates))


def order_facts(scan):
    # traits.segl, behavioural.segl, lifecycle.segl, seasonal.segl
    paid = c("status") == "paid"
    on = c("placed_on")
    last_12_months = on.is_between(months_ago(12), AS_OF)
    orders = scan("order").with_columns(
        pl.when(paid).then(cents(c("amount"))).alias("paid_cents"),
        pl.when(paid).then(c("items")).alias("paid_items"),
        pl.when(paid).then(on).alias("paid_on"),
    )
    return per_customer(
        orders,
        dict(
            paid_orders=paid,
            paid_90d=paid & date_in_last_days(on, 90),
            orders_90d=date_in_last_days(on, 90),
            not_in_app=c("channel") != "app",
            refunded_12m=(c("status") == "refunded") & last_12_months,
            outdoor_12m=paid & last_12_months
            & c("category").str.to_lowercase().str.contains("outdoor", literal=True),
            paid_last_holiday=paid & on.is_between(*HOLIDAY),
            paid_in_december=paid & (on.dt.month() == 12),
            paid_last_quarter=paid & on.is_between(*LAST_QUARTER),
            orders_last_year=on.is_between(*LAST_YEAR),
            orders_this_year=on.is_between(*THIS_YEAR),
        ),
        orders=pl.len(),
        paid_cents=c("paid_cents").sum(),
        paid_items=c("paid_items").sum(),
        last_order_date=c("paid_on").max(),
    )


def ticket_facts(scan):
    # traits.segl, needs.segl
    at = c("opened_at")
    rated_180d = ts_in_last_days(at, 180) & c("csat").is_not_null()
    tickets = scan("ticket").with_columns(pl.when(rated_180d).then(c("csat")).alias("csat_180d"))
    return per_customer(
        tickets,
        dict(
            urgent_open=(c("status") != "solved") & c("priority").is_in(["high", "urgent"]),
            rated_180d=rated_180d,
            tickets_90d=ts_in_last_days(at, 90),
            onboarding_tickets=c("category").str.to_lowercase().str.starts_with("onboarding"),
            billing_60d=ts_in_last_days(at, 60)
            & c("category").is_in(["billing", "invoice", "refund"]),
            tickets_1y=ts_since(at, months_ago(12)),
        ),
        csat_sum_180d=c("csat_180d").sum(),
    )


def event_facts(scan):
    # traits.segl, behavioural.segl, lifecycle.segl, needs.segl, technographic.segl
    at = c("occurred_at")
    last_30d = ts_in_last_days(at, 30)
    feature_use = c("kind") == "feature_use"
    events = scan("event").with_columns(
        pl.when(last_30d & feature_use).then(c("feature")).alias("feature_30d"))
    return per_customer(
        events,
        dict(
            events_30d=last_30d,
            exports_14d=ts_in_last_days(at, 14) & (c("kind") == "export"),
            # between 30 and 90 days ago: the local days AS_OF - 90 to AS_OF - 30
            events_30_to_90d_ago=(at >= midnight(days_ago(90))) & (at < midnight(days_ago(29))),
            feature_uses=feature_use,
            logins_30d=last_30d & (c("kind") == "login"),
            api_calls_30d=last_30d & (c("kind") == "api_call"),
        ),
        features_30d=c("feature_30d").drop_nulls().n_unique(),
    )


# --- Customers --------------------------------------------------------------------------------

CUSTOMER_COLUMNS = [
    "regulated_industry_contacts", "software_decision_makers", "large_company_contacts",
    "unassigned_paying_contacts", "frequent_buyers", "recent_buyers", "lapsed_repeat_buyers",
    "big_basket_buyers", "app_only_shoppers", "frequent_refunders", "highly_engaged",
    "feature_explorers", "recent_exporters", "outdoor_category_buyers", "premium_basket_buyers",
    "review_request_audience", "young_professionals", "decision_makers", "billing_contacts",
    "birthday_this_week", "incomplete_profiles", "personal_email_addresses", "dach_customers",
    "north_america_paying", "enterprise_emea", "emerging_market_newcomers", "munich_customers",
    "outside_core_markets", "seats_near_limit", "heavy_usage_lower_plan", "upsell_candidates",
    "integration_cross_sell", "new_customers", "loyal_customers", "inactive_users",
    "dormant_paying_customers", "reactivated_users", "signup_anniversary_soon", "churn_tagged",
    "trial_ending_soon", "active_last_36_hours", "support_heavy", "urgent_tickets_open",
    "unhappy_with_support", "struggling_onboarding", "billing_questions", "silent_detractors",
    "sustainability_minded", "data_enthusiasts", "interests_unknown", "rfm_champions",
    "rfm_save_list", "rfm_nurture", "unhealthy_paying_customers", "sales_ready_leads",
    "last_holiday_buyers", "december_regulars", "last_quarter_buyers", "lapsed_since_last_year",
    "birthday_month", "mobile_first", "crm_integrated", "paying_without_integrations",
    "api_power_users", "slack_without_reports", "high_value_customers",
    "top_20_percent_customers", "big_lifetime_spenders",
    # tiers
    "age_group", "tenure_band", "rfm_class", "health_band", "arr_band",
    # scores
    "health_score", "lead_score",
]


def customer_rows(scan):
    """The rules that need nothing but the customer's own fields."""
    login = c("last_login")
    plan_paid = c("plan") != "free"
    age_this_year = AS_OF.year - c("birthday").dt.year()  # traits.segl
    return scan("customer").select(
        "id", "company_id", "plan", "signup_date", "last_login", "nps", "email_opt_in",
        "job_role", "channel", "primary_device",
        (c("apps").list.len() > 0).alias("has_apps"),
        contains_any("features_used", ["reports", "automations"])
        .alias("reports_or_automations"),
        *segments(
            # demographic.segl
            decision_makers=c("job_role") == "decision_maker",
            billing_contacts=(c("job_role") == "billing") & c("email_opt_in"),
            birthday_this_week=date_in_next_days(anniversary(c("birthday")), 7)
            & c("email_opt_in"),
            incomplete_profiles=c("first_name").is_null() | c("birthday").is_null()
            | c("job_role").is_null(),
            personal_email_addresses=c("email").str.contains(
                "(?i)@(gmail|googlemail|yahoo|hotmail|outlook|gmx|web)[.][a-z]+$"),
            # geographic.segl
            dach_customers=c("country").is_in(["DE", "AT", "CH"]),
            north_america_paying=(c("region") == "NA") & plan_paid,
            enterprise_emea=(c("region") == "EMEA") & (c("plan") == "enterprise")
            & (c("arr") >= MIN_ENTERPRISE_ARR),
            emerging_market_newcomers=c("region").is_in(["APAC", "LATAM"]) & plan_paid
            & c("signup_date").is_between(months_ago(12), AS_OF),
            munich_customers=(c("country") == "DE")
            & c("city").str.to_lowercase().is_in(["münchen", "munich", "muenchen"]),
            outside_core_markets=~c("country").is_in(["DE", "AT", "CH", "FR", "GB", "US", "CA"]),
            # growth.segl (pro: seats >= pro_seat_limit * 0.8)
            seats_near_limit=((c("plan") == "starter") & (c("seats") >= STARTER_SEAT_LIMIT - 1))
            | ((c("plan") == "pro") & (c("seats") * 10 >= PRO_SEAT_LIMIT * 8)),
            # b2b.segl
            unassigned_paying_contacts=c("company_id").is_null() & plan_paid,
            # lifecycle.segl: days since the local day of the last login
            inactive_users=login.is_null() | (login < midnight(days_ago(INACTIVE_DAYS))),
            signup_anniversary_soon=date_in_next_days(anniversary(c("signup_date")), 14)
            & (c("signup_date") < months_ago(6)),
            churn_tagged=contains_any(
                "tags", ["churned", "Churned", "cancelling", "Cancelling", "canceling"]),
            trial_ending_soon=(c("plan") == "free")
            & date_in_next_days(c("signup_date").dt.offset_by("1mo"), 3),  # trial_ends_on
            active_last_36_hours=(pl.lit(NOW) - login) < dt.timedelta(hours=36),
            # psychographic.segl
            sustainability_minded=contains_any(
                "interests", ["sustainability", "climate", "outdoors"]),
            data_enthusiasts=c("interests").list.contains("analytics")
            & c("interests").list.contains("automation"),
            interests_unknown=(c("interests").list.len() == 0) & c("email_opt_in"),
            # seasonal.segl
            birthday_month=c("email_opt_in") & (c("birthday").dt.month() == AS_OF.month),
            # technographic.segl
            crm_integrated=contains_any("apps", ["salesforce", "hubspot", "pipedrive"]),
            paying_without_integrations=(c("apps").list.len() == 0) & plan_paid,
            slack_without_reports=c("apps").list.contains("slack")
            & ~c("features_used").list.contains("reports"),
            # value.segl
            high_value_customers=c("arr") >= HIGH_VALUE_ARR,
            top_20_percent_customers=at_least_80th_percentile("arr"),
            # growth.segl: integration_cross_sell, without its company test
            pro_without_salesforce=c("plan").is_in(["pro", "enterprise"])
            & ~c("apps").list.contains("salesforce"),
        ),
        # demographic.segl
        tiers(
            (c("birthday").is_null(), "age_unknown"),
            (age_this_year < 25, "under_25"),
            (age_this_year.is_between(25, 34), "age_25_34"),
            (age_this_year.is_between(35, 49), "age_35_49"),
            otherwise="age_50_plus").alias("age_group"),
        # lifecycle.segl
        tiers(
            (date_in_last_days(c("signup_date"), 30), "first_month"),
            (c("signup_date").is_between(months_ago(12), AS_OF), "first_year"),
            (c("signup_date").is_between(months_ago(24), AS_OF), "two_years"),
            otherwise="long_standing").alias("tenure_band"),
        # value.segl
        tiers(
            (c("arr") >= 100_000, "strategic"),
            (c("arr") >= HIGH_VALUE_ARR, "high"),
            (c("arr") >= 5_000, "mid"),
            (c("arr") > 0, "low"),
            otherwise="no_revenue").alias("arr_band"),
    )


def customers(scan):
    facts = [order_facts(scan), ticket_facts(scan), event_facts(scan)]
    # schema.segl: customer.company, looked up through company_id
    company = scan("company").select(
        c("id").alias("company_id"), c("industry").alias("company_industry"),
        c("employees").alias("company_employees"))
    # Counts and sums over no related records are 0; the date of the last paid order stays
    # unknown.
    zero_when_none = [name for f in facts for name in f.collect_schema().names()
                      if name not in ("customer_id", "last_order_date")]
    lf = customer_rows(scan)
    for f in facts:
        lf = lf.join(f, left_on="id", right_on="customer_id", how="left")
    lf = (lf.join(company, on="company_id", how="left")
          .with_columns(c(zero_when_none).fill_null(0)))
    login = c("last_login")
    plan_paid = c("plan") != "free"

    # traits.segl: the definitions over orders
    lf = lf.with_columns(
        (c("paid_orders") >= 1).alias("is_buyer"),
        (pl.lit(AS_OF) - c("last_order_date")).dt.total_days().alias("days_since_last_order"),
    )
    # rfm.segl: quintiles among buyers; value.segl: share of the total lifetime value
    total_paid = c("paid_cents").sum()
    lf = lf.with_columns(
        (6 - quintile("days_since_last_order", "is_buyer")).alias("r_score"),
        quintile("paid_orders", "is_buyer").alias("f_score"),
        quintile("paid_cents", "is_buyer").alias("m_score"),
        *segments(
            big_lifetime_spenders=(total_paid != 0)
            & (c("paid_cents") * 100 >= 2 * total_paid),
            # behavioural.segl: the most recent paid order is at most 30 days old
            recent_buyers=date_in_last_days(c("last_order_date"), 30),
            # growth.segl
            heavy_usage_lower_plan=c("plan").is_in(["free", "starter"])
            & (c("events_30d") >= HEAVY_USAGE_EVENTS),
            # needs.segl: avg(csat) < 3 over the rated tickets of the last 180 days
            urgent_tickets_open=c("urgent_open") > 0,
            unhappy_with_support=(c("rated_180d") > 0)
            & (c("csat_sum_180d") < 3 * c("rated_180d")),
        ),
    )
    fm_score = c("f_score") + c("m_score")
    lf = lf.with_columns(
        # rfm.segl
        tiers(
            (~c("is_buyer"), "no_purchases"),
            ((c("r_score") >= 4) & (fm_score >= 9), "champions"),
            ((c("r_score") >= 3) & (fm_score >= 7), "loyal"),
            ((c("r_score") == 5) & (c("f_score") == 1), "new_buyers"),
            ((c("r_score") >= 4) & (fm_score >= 5), "potential_loyalists"),
            (c("r_score") >= 4, "promising"),
            ((c("r_score") == 3) & (fm_score >= 5), "need_attention"),
            (c("r_score") == 3, "about_to_sleep"),
            ((c("r_score") <= 2) & (fm_score >= 9), "cannot_lose_them"),
            ((c("r_score") <= 2) & (fm_score >= 6), "at_risk"),
            (c("r_score") == 2, "hibernating"),
            otherwise="lost").alias("rfm_class"),
        # scores.segl
        score(
            (25, ts_in_last_days(login, 7)),
            (10, (login >= midnight(days_ago(30))) & (login < midnight(days_ago(7)))),
            (-20, login < midnight(days_ago(30))),
            (-10, login.is_null()),
            (15, c("features_30d") >= 3),
            (15, c("nps") >= 9),
            (-15, c("nps") <= 6),
            (-20, c("urgent_tickets_open")),
            (-10, c("unhappy_with_support")),
            (10, c("has_apps")),
            (5, c("paid_orders") >= 1),
        ).alias("health_score"),
        score(
            (20, c("job_role") == "decision_maker"),
            (10, c("job_role") == "manager"),
            (15, c("company_employees") >= 200),
            (10, c("company_industry").is_in(["software", "finance"])),
            (15, c("events_30d") >= 20),
            (10, c("reports_or_automations")),
            (10, c("channel").is_in(["referral", "partner"])),
            (5, c("email_opt_in")),
            (-15, c("personal_email_addresses")),
            (-30, c("plan").is_in(["pro", "enterprise"])),
        ).alias("lead_score"),
    ).with_columns(
        tiers(
            (c("health_score") >= 40, "healthy"),
            (c("health_score") >= 0, "neutral"),
            otherwise="unhealthy").alias("health_band"),
    )

    # The segments over related records, and those built on other segments.
    lf = lf.with_columns(segments(
        # b2b.segl
        regulated_industry_contacts=c("company_industry").is_in(["finance", "healthcare"]),
        software_decision_makers=(c("company_industry") == "software") & c("decision_makers"),
        large_company_contacts=c("company_employees") >= 1_000,
        # behavioural.segl
        frequent_buyers=c("paid_90d") >= 3,
        lapsed_repeat_buyers=(c("paid_orders") >= 2) & (c("days_since_last_order") > 180),
        big_basket_buyers=(c("paid_orders") > 0) & (c("paid_items") >= 5 * c("paid_orders")),
        app_only_shoppers=(c("orders") >= 2) & (c("not_in_app") == 0),
        frequent_refunders=c("refunded_12m") >= 2,
        highly_engaged=(c("events_30d") >= 40) & ts_in_last_days(login, 7),
        feature_explorers=c("features_30d") >= 5,
        recent_exporters=c("exports_14d") > 0,
        outdoor_category_buyers=c("outdoor_12m") > 0,
        # average_order_value = round(avg(amount)) >= 250  <=>  avg >= 249.50
        premium_basket_buyers=(c("paid_orders") >= 2)
        & (c("paid_cents") >= 24_950 * c("paid_orders")),
        review_request_audience=c("recent_buyers") & c("email_opt_in")
        & (c("nps").fill_null(7) >= 7),  # nps_or_neutral
        # demographic.segl
        young_professionals=(c("age_group") == "age_25_34")
        & c("job_role").is_in(["manager", "user"]),
        # growth.segl
        upsell_candidates=(c("seats_near_limit") | c("heavy_usage_lower_plan"))
        & ~c("urgent_tickets_open") & (c("health_score") >= 40),
        integration_cross_sell=c("pro_without_salesforce")
        & c("company_industry").is_in(["software", "finance"]),
        # lifecycle.segl
        new_customers=c("tenure_band") == "first_month",
        loyal_customers=(c("signup_date") < months_ago(24)) & ts_in_last_days(login, 30)
        & (c("paid_orders") >= 5),
        dormant_paying_customers=plan_paid & c("inactive_users") & (c("orders_90d") == 0),
        reactivated_users=ts_in_last_days(login, 7) & (c("signup_date") < days_ago(90))
        & (c("events_30_to_90d_ago") == 0),
        # needs.segl
        support_heavy=c("tickets_90d") >= SUPPORT_HEAVY_TICKETS,
        struggling_onboarding=date_in_last_days(c("signup_date"), 30)
        & ((c("feature_uses") < 3) | (c("onboarding_tickets") > 0)),
        billing_questions=c("billing_60d") >= 1,
        silent_detractors=(c("nps") <= 6) & (c("tickets_1y") == 0),
        # rfm.segl
        rfm_champions=c("rfm_class") == "champions",
        rfm_save_list=c("rfm_class").is_in(["at_risk", "cannot_lose_them"]),
        rfm_nurture=c("rfm_class").is_in(["new_buyers", "promising", "potential_loyalists"]),
        # scores.segl
        unhealthy_paying_customers=plan_paid & (c("health_band") == "unhealthy"),
        sales_ready_leads=c("plan").is_in(["free", "starter"]) & (c("lead_score") >= 50),
        # seasonal.segl
        last_holiday_buyers=c("paid_last_holiday") > 0,
        december_regulars=c("paid_in_december") >= 2,
        last_quarter_buyers=c("paid_last_quarter") >= 1,
        lapsed_since_last_year=(c("orders_last_year") >= 1) & (c("orders_this_year") == 0),
        # technographic.segl
        mobile_first=c("primary_device").is_in(["ios", "android"]) & (c("logins_30d") >= 5),
        api_power_users=c("api_calls_30d") >= 50,
    ))
    return lf.select("id", *CUSTOMER_COLUMNS)


# --- Companies --------------------------------------------------------------------------------

def companies(scan):
    # traits.segl, b2b.segl, scores.segl: roll-ups of each company's contacts
    contacts = (
        scan("customer").filter(c("company_id").is_not_null())
        .with_columns(
            ts_in_last_days(c("last_login"), 30).alias("active_contacts"),
            (c("job_role") == "decision_maker").alias("decision_makers"),
            (c("nps") <= 6).alias("detractors"),
            (c("nps") >= 9).alias("promoters"),
        )
        .group_by("company_id").agg(
            pl.len().alias("contact_count"),
            c("active_contacts", "decision_makers", "detractors", "promoters").sum(),
            c("job_role").drop_nulls().n_unique().alias("roles"),
        )
    )
    rollups = ["contact_count", "active_contacts", "decision_makers", "detractors", "promoters",
               "roles"]
    lf = (
        scan("company").select("id", "arr", "region", "employees", "renewal_date")
        .join(contacts, left_on="id", right_on="company_id", how="left")
        .with_columns(c(rollups).fill_null(0), cents(c("arr")).alias("arr_cents"))
        .pipe(with_cumulative, "arr_cents")
    )
    total = c("arr_cents").sum()
    active = c("active_contacts")
    # value.segl: cumulative share of arr <= 80% (and <= 95%)
    lf = lf.with_columns(
        (c("cumulative") * 100 <= 80 * total).alias("first_80_percent"),
        (c("cumulative") * 100 <= 95 * total).alias("first_95_percent"),
    )
    return lf.select(
        "id",
        *segments(
            # b2b.segl
            accounts_with_decision_maker=c("decision_makers") > 0,
            single_threaded_accounts=(c("contact_count") == 1) & (c("arr") > 0),
            multi_threaded_accounts=(c("contact_count") >= 3) & (c("roles") >= 2),
            renewals_next_90_days=date_in_next_days(c("renewal_date"), 90),
            renewal_at_risk=date_in_next_days(c("renewal_date"), 120)
            & ((active == 0) | (c("detractors") > 0)),
            # growth.segl: active_contacts >= contact_count * 0.8
            expanding_accounts=(active >= 5) & (active * 5 >= c("contact_count") * 4),
            # value.segl
            top_accounts_by_arr=at_least_80th_percentile("arr"),
            pareto_accounts=c("first_80_percent"),
            regional_top_accounts=c("arr").rank("min", descending=True).over("region") <= 3,
        ),
        # b2b.segl
        tiers(
            (c("employees") >= 1_000, "large_enterprise"),
            (c("employees") >= 100, "mid_market"),
            otherwise="small_business").alias("company_size"),
        # value.segl
        tiers(
            (c("first_80_percent"), "class_a"),
            (c("first_95_percent"), "class_b"),
            otherwise="class_c").alias("account_abc"),
        # scores.segl
        score(
            (30, active >= 3),
            (10, active.is_between(1, 2)),
            (-30, active == 0),
            (20, c("promoters") > 0),
            (-20, c("detractors") > 0),
            (-10, date_in_next_days(c("renewal_date"), 60) & (active <= 1)),
        ).alias("account_health"),
    )


def build(scan):
    return {"customer": customers(scan), "company": companies(scan)}
