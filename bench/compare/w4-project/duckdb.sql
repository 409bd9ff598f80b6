-- W4 by hand for DuckDB: the whole example project rules/ (the files named in the comments) as
-- of 2026-11-20, time zone Europe/Berlin (the driver sets TimeZone to it).
--
-- How segl's meaning is written here:
-- * Related records: each related table is read once and aggregated per customer (or company)
--   with one FILTER per rule, then joined back; counts and sums over no records are 0 (coalesce),
--   averages and the latest date unknown (NULL). any(...) is a count > 0, every(...) a count of
--   the records that break the rule = 0.
-- * Rolling windows are whole local days, both ends included: on 2026-11-20 "in last 30 days" is
--   21 October to 20 November. For dates that is a BETWEEN; for timestamps it runs from local
--   midnight of the first day up to (not including) local midnight after the as-of day. A
--   customer's last login is turned into "days ago" (local calendar days) once.
--   `now` is the as-of moment, the end of the as-of day (2026-11-20 23:59:59.999999 local).
-- * A test on an unknown value is false: conditions that can meet NULL are wrapped in
--   coalesce(..., false); `not`, `is not`, `none of` keep the unknowns.
-- * Population functions: percentile = percent_rank() (ascending, ties share the lowest rank);
--   quintile = floor(5 * percentile) + 1, at most 5, `within` = PARTITION BY (customers with an
--   unknown value apart, and unknown themselves); share of total = value / sum over all;
--   cumulative share = sum of all values at least as large (RANGE: ties count in full) / total;
--   rank = rank() from the largest value. The window functions run on narrow rows (key, ARR and
--   the purchase traits) whose results are joined back: a window sorts every column it carries,
--   and sorting the whole customer record (lists and all) several times costs more than reading
--   two of its columns a second time.
-- * Exact numbers stay DECIMAL (seats >= 25 * 0.8 is exact); averages and shares are DOUBLE.
-- * Tiers are CASE expressions (first row that holds wins); scores add up CASE rows.
-- * Parameters are written in with their default values (named in the comments).

-- Membership of each customer record.
WITH
-- Orders (traits.segl, behavioural.segl, lifecycle.segl, rfm.segl, seasonal.segl): one pass.
orders_per_customer AS (
  SELECT
    customer_id,
    count(*) AS orders,
    count(*) FILTER (channel <> 'app') AS orders_not_in_app,
    count(*) FILTER (status = 'paid') AS paid_orders,
    sum(amount) FILTER (status = 'paid') AS paid_total,
    max(placed_on) FILTER (status = 'paid') AS last_paid_on,
    avg(amount) FILTER (status = 'paid') AS avg_paid_amount,
    avg(items) FILTER (status = 'paid') AS avg_paid_items,
    count(*) FILTER (placed_on BETWEEN DATE '2026-11-20' - 90 AND DATE '2026-11-20')
      AS orders_last_90_days,
    count(*) FILTER (status = 'paid'
      AND placed_on BETWEEN DATE '2026-11-20' - 90 AND DATE '2026-11-20') AS paid_last_90_days,
    count(*) FILTER (status = 'refunded'
      AND placed_on BETWEEN DATE '2026-11-20' - INTERVAL 12 MONTH AND DATE '2026-11-20')
      AS refunded_last_12_months,
    count(*) FILTER (status = 'paid' AND contains(lower(category), 'outdoor')
      AND placed_on BETWEEN DATE '2026-11-20' - INTERVAL 12 MONTH AND DATE '2026-11-20')
      AS paid_outdoor_last_12_months,
    -- seasonal.segl: holiday_start .. holiday_end, any December, last quarter (Q3), last year
    -- (2025) and this year (2026) as whole calendar periods
    count(*) FILTER (status = 'paid' AND placed_on BETWEEN DATE '2025-11-28' AND DATE '2025-12-31')
      AS paid_last_holiday_season,
    count(*) FILTER (status = 'paid' AND month(placed_on) = 12) AS paid_in_december,
    count(*) FILTER (status = 'paid' AND placed_on BETWEEN DATE '2026-07-01' AND DATE '2026-09-30')
      AS paid_last_quarter,
    count(*) FILTER (year(placed_on) = 2025) AS orders_last_year,
    count(*) FILTER (year(placed_on) = 2026) AS orders_this_year
  FROM "order"
  GROUP BY customer_id
),
-- Support tickets (traits.segl, needs.segl): one pass.
tickets_per_customer AS (
  SELECT
    customer_id,
    count(*) FILTER (status <> 'solved' AND priority IN ('high', 'urgent')) AS urgent_open,
    count(*) FILTER (starts_with(lower(category), 'onboarding')) AS onboarding_tickets,
    avg(csat) FILTER (opened_at >= TIMESTAMPTZ '2026-05-24 00:00 Europe/Berlin'
      AND opened_at < TIMESTAMPTZ '2026-11-21 00:00 Europe/Berlin') AS avg_csat_last_180_days,
    count(*) FILTER (opened_at >= TIMESTAMPTZ '2026-08-22 00:00 Europe/Berlin'
      AND opened_at < TIMESTAMPTZ '2026-11-21 00:00 Europe/Berlin') AS tickets_last_90_days,
    count(*) FILTER (category IN ('billing', 'invoice', 'refund')
      AND opened_at >= TIMESTAMPTZ '2026-09-21 00:00 Europe/Berlin'
      AND opened_at < TIMESTAMPTZ '2026-11-21 00:00 Europe/Berlin') AS billing_last_60_days,
    count(*) FILTER (opened_at >= TIMESTAMPTZ '2025-11-20 00:00 Europe/Berlin'
      AND opened_at < TIMESTAMPTZ '2026-11-21 00:00 Europe/Berlin') AS tickets_last_year
  FROM ticket
  GROUP BY customer_id
),
-- Product events (traits.segl, behavioural.segl, technographic.segl, lifecycle.segl,
-- needs.segl): one pass. Last 30 days = from 21 October, last 14 days = from 6 November.
events_per_customer AS (
  SELECT
    customer_id,
    count(*) FILTER (last_30_days) AS events_last_30_days,
    -- count distinct(...): the length of the de-duplicated list (unknown features are left
    -- out); DuckDB plans a DISTINCT aggregate as a second grouping of all the events
    len(list_distinct(list(feature) FILTER (last_30_days AND kind = 'feature_use')))
      AS features_last_30_days,
    count(*) FILTER (last_30_days AND kind = 'login') AS logins_last_30_days,
    count(*) FILTER (last_30_days AND kind = 'api_call') AS api_calls_last_30_days,
    count(*) FILTER (kind = 'export'
      AND occurred_at >= TIMESTAMPTZ '2026-11-06 00:00 Europe/Berlin'
      AND occurred_at < TIMESTAMPTZ '2026-11-21 00:00 Europe/Berlin') AS exports_last_14_days,
    -- between 30 and 90 days ago: 22 August to 21 October, both whole days
    count(*) FILTER (occurred_at >= TIMESTAMPTZ '2026-08-22 00:00 Europe/Berlin'
      AND occurred_at < TIMESTAMPTZ '2026-10-22 00:00 Europe/Berlin') AS events_30_to_90_days_ago,
    count(*) FILTER (kind = 'feature_use') AS feature_use_events
  FROM (
    SELECT *, occurred_at >= TIMESTAMPTZ '2026-10-21 00:00 Europe/Berlin'
      AND occurred_at < TIMESTAMPTZ '2026-11-21 00:00 Europe/Berlin' AS last_30_days
    FROM event
  )
  GROUP BY customer_id
),
-- traits.segl: the purchase traits of every customer (no paid order: a count and a sum of 0,
-- an unknown last date), then rfm.segl (quintiles among buyers, non-buyers apart) and value.segl
-- (percentile of ARR, share of all lifetime value), ranked on these narrow rows.
purchase_traits AS (
  SELECT
    c.id,
    c.arr,
    coalesce(o.paid_orders, 0) AS paid_order_count,
    coalesce(o.paid_orders, 0) >= 1 AS is_buyer,
    coalesce(o.paid_total, 0) AS lifetime_value,
    DATE '2026-11-20' - o.last_paid_on AS days_since_last_order
  FROM customer AS c
  LEFT JOIN orders_per_customer AS o ON o.customer_id = c.id
),
population_ranks AS (
  SELECT
    * EXCLUDE (arr),
    CASE WHEN days_since_last_order IS NOT NULL THEN 6 - least(5, 1 + floor(5 * percent_rank()
      OVER (PARTITION BY is_buyer, days_since_last_order IS NULL
            ORDER BY days_since_last_order))) END AS r_score,
    least(5, 1 + floor(5 * percent_rank() OVER (PARTITION BY is_buyer
      ORDER BY paid_order_count))) AS f_score,
    least(5, 1 + floor(5 * percent_rank() OVER (PARTITION BY is_buyer
      ORDER BY lifetime_value))) AS m_score,
    percent_rank() OVER (ORDER BY arr) AS arr_percentile,
    lifetime_value::DOUBLE / nullif(sum(lifetime_value) OVER (), 0)::DOUBLE AS lifetime_share
  FROM purchase_traits
),
-- traits.segl: every computed trait of each customer, with its company looked up (b2b.segl).
traits AS (
  SELECT
    c.*,
    r.* EXCLUDE (id),
    co.industry AS company_industry,
    co.employees AS company_employees,
    o.last_paid_on AS last_order_date,
    round(o.avg_paid_amount) AS average_order_value,
    o.avg_paid_items,
    coalesce(o.orders, 0) AS orders,
    coalesce(o.orders_not_in_app, 0) AS orders_not_in_app,
    coalesce(o.orders_last_90_days, 0) AS orders_last_90_days,
    coalesce(o.paid_last_90_days, 0) AS paid_last_90_days,
    coalesce(o.refunded_last_12_months, 0) AS refunded_last_12_months,
    coalesce(o.paid_outdoor_last_12_months, 0) AS paid_outdoor_last_12_months,
    coalesce(o.paid_last_holiday_season, 0) AS paid_last_holiday_season,
    coalesce(o.paid_in_december, 0) AS paid_in_december,
    coalesce(o.paid_last_quarter, 0) AS paid_last_quarter,
    coalesce(o.orders_last_year, 0) AS orders_last_year,
    coalesce(o.orders_this_year, 0) AS orders_this_year,
    coalesce(t.urgent_open, 0) AS urgent_open,
    coalesce(t.onboarding_tickets, 0) AS onboarding_tickets,
    t.avg_csat_last_180_days,
    coalesce(t.tickets_last_90_days, 0) AS tickets_last_90_days,
    coalesce(t.billing_last_60_days, 0) AS billing_last_60_days,
    coalesce(t.tickets_last_year, 0) AS tickets_last_year,
    coalesce(e.events_last_30_days, 0) AS events_last_30_days,
    coalesce(e.features_last_30_days, 0) AS features_last_30_days,
    coalesce(e.logins_last_30_days, 0) AS logins_last_30_days,
    coalesce(e.api_calls_last_30_days, 0) AS api_calls_last_30_days,
    coalesce(e.exports_last_14_days, 0) AS exports_last_14_days,
    coalesce(e.events_30_to_90_days_ago, 0) AS events_30_to_90_days_ago,
    coalesce(e.feature_use_events, 0) AS feature_use_events,
    -- local calendar days since the last login (unknown without one)
    DATE '2026-11-20' - (c.last_login AT TIME ZONE 'Europe/Berlin')::DATE AS login_days_ago,
    2026 - year(c.birthday) AS age_this_year,
    coalesce(c.nps, 7) AS nps_or_neutral
  FROM customer AS c
  JOIN population_ranks AS r ON r.id = c.id
  LEFT JOIN orders_per_customer AS o ON o.customer_id = c.id
  LEFT JOIN tickets_per_customer AS t ON t.customer_id = c.id
  LEFT JOIN events_per_customer AS e ON e.customer_id = c.id
  LEFT JOIN company AS co ON co.id = c.company_id
),
-- Segments, tiers and scores that other rules build on.
building_blocks AS (
  SELECT
    *,
    -- demographic.segl
    coalesce(job_role = 'decision_maker', false) AS decision_makers,
    regexp_matches(email, '@(gmail|googlemail|yahoo|hotmail|outlook|gmx|web)[.][a-z]+$', 'i')
      AS personal_email_addresses,
    CASE
      WHEN birthday IS NULL THEN 'age_unknown'
      WHEN age_this_year < 25 THEN 'under_25'
      WHEN age_this_year BETWEEN 25 AND 34 THEN 'age_25_34'
      WHEN age_this_year BETWEEN 35 AND 49 THEN 'age_35_49'
      ELSE 'age_50_plus'
    END AS age_group,
    -- behavioural.segl
    coalesce(last_order_date BETWEEN DATE '2026-11-20' - 30 AND DATE '2026-11-20', false)
      AS recent_buyers,
    -- lifecycle.segl (param inactive_days = 60)
    CASE
      WHEN signup_date BETWEEN DATE '2026-11-20' - 30 AND DATE '2026-11-20' THEN 'first_month'
      WHEN signup_date BETWEEN DATE '2026-11-20' - INTERVAL 1 YEAR AND DATE '2026-11-20'
        THEN 'first_year'
      WHEN signup_date BETWEEN DATE '2026-11-20' - INTERVAL 2 YEAR AND DATE '2026-11-20'
        THEN 'two_years'
      ELSE 'long_standing'
    END AS tenure_band,
    last_login IS NULL OR login_days_ago > 60 AS inactive_users,
    -- growth.segl (params starter_seat_limit = 5, pro_seat_limit = 25, heavy_usage_events = 60)
    (plan = 'starter' AND seats >= 5 - 1) OR (plan = 'pro' AND seats >= 25 * 0.8)
      AS seats_near_limit,
    plan IN ('free', 'starter') AND events_last_30_days >= 60 AS heavy_usage_lower_plan,
    -- needs.segl
    urgent_open > 0 AS urgent_tickets_open,
    coalesce(avg_csat_last_180_days < 3, false) AS unhappy_with_support,
    -- rfm.segl
    CASE
      WHEN NOT is_buyer THEN 'no_purchases'
      WHEN r_score >= 4 AND f_score + m_score >= 9 THEN 'champions'
      WHEN r_score >= 3 AND f_score + m_score >= 7 THEN 'loyal'
      WHEN r_score = 5 AND f_score = 1 THEN 'new_buyers'
      WHEN r_score >= 4 AND f_score + m_score >= 5 THEN 'potential_loyalists'
      WHEN r_score >= 4 THEN 'promising'
      WHEN r_score = 3 AND f_score + m_score >= 5 THEN 'need_attention'
      WHEN r_score = 3 THEN 'about_to_sleep'
      WHEN r_score <= 2 AND f_score + m_score >= 9 THEN 'cannot_lose_them'
      WHEN r_score <= 2 AND f_score + m_score >= 6 THEN 'at_risk'
      WHEN r_score = 2 THEN 'hibernating'
      ELSE 'lost'
    END AS rfm_class
  FROM traits
),
-- scores.segl
scored AS (
  SELECT
    *,
    (CASE WHEN login_days_ago BETWEEN 0 AND 7 THEN 25 ELSE 0 END
      + CASE WHEN login_days_ago BETWEEN 8 AND 30 THEN 10 ELSE 0 END
      + CASE WHEN login_days_ago > 30 THEN -20 ELSE 0 END
      + CASE WHEN last_login IS NULL THEN -10 ELSE 0 END
      + CASE WHEN features_last_30_days >= 3 THEN 15 ELSE 0 END
      + CASE WHEN nps >= 9 THEN 15 ELSE 0 END
      + CASE WHEN nps <= 6 THEN -15 ELSE 0 END
      + CASE WHEN urgent_tickets_open THEN -20 ELSE 0 END
      + CASE WHEN unhappy_with_support THEN -10 ELSE 0 END
      + CASE WHEN len(apps) > 0 THEN 10 ELSE 0 END
      + CASE WHEN paid_order_count >= 1 THEN 5 ELSE 0 END)::BIGINT AS health_score,
    (CASE WHEN job_role = 'decision_maker' THEN 20 ELSE 0 END
      + CASE WHEN job_role = 'manager' THEN 10 ELSE 0 END
      + CASE WHEN company_employees >= 200 THEN 15 ELSE 0 END
      + CASE WHEN company_industry IN ('software', 'finance') THEN 10 ELSE 0 END
      + CASE WHEN events_last_30_days >= 20 THEN 15 ELSE 0 END
      + CASE WHEN list_has_any(features_used, ['reports', 'automations']) THEN 10 ELSE 0 END
      + CASE WHEN channel IN ('referral', 'partner') THEN 10 ELSE 0 END
      + CASE WHEN email_opt_in THEN 5 ELSE 0 END
      + CASE WHEN personal_email_addresses THEN -15 ELSE 0 END
      + CASE WHEN plan IN ('pro', 'enterprise') THEN -30 ELSE 0 END)::BIGINT AS lead_score
  FROM building_blocks
)
SELECT
  id,
  -- b2b.segl
  coalesce(company_industry IN ('finance', 'healthcare'), false) AS regulated_industry_contacts,
  coalesce(company_industry = 'software', false) AND decision_makers AS software_decision_makers,
  coalesce(company_employees >= 1000, false) AS large_company_contacts,
  company_id IS NULL AND plan <> 'free' AS unassigned_paying_contacts,
  -- behavioural.segl
  paid_last_90_days >= 3 AS frequent_buyers,
  recent_buyers,
  paid_order_count >= 2 AND coalesce(days_since_last_order > 180, false) AS lapsed_repeat_buyers,
  coalesce(avg_paid_items >= 5, false) AS big_basket_buyers,
  orders >= 2 AND orders_not_in_app = 0 AS app_only_shoppers,
  refunded_last_12_months >= 2 AS frequent_refunders,
  events_last_30_days >= 40 AND coalesce(login_days_ago BETWEEN 0 AND 7, false) AS highly_engaged,
  features_last_30_days >= 5 AS feature_explorers,
  exports_last_14_days > 0 AS recent_exporters,
  paid_outdoor_last_12_months > 0 AS outdoor_category_buyers,
  paid_order_count >= 2 AND coalesce(average_order_value >= 250, false) AS premium_basket_buyers,
  recent_buyers AND email_opt_in AND nps_or_neutral >= 7 AS review_request_audience,
  -- demographic.segl
  age_group = 'age_25_34' AND coalesce(job_role IN ('manager', 'user'), false)
    AS young_professionals,
  decision_makers,
  coalesce(job_role = 'billing', false) AND email_opt_in AS billing_contacts,
  -- the next birthday on or after the as-of date (29 February: 28 February in other years)
  coalesce(CASE
      WHEN birthday + to_years(age_this_year) >= DATE '2026-11-20'
        THEN birthday + to_years(age_this_year)
      ELSE birthday + to_years(age_this_year + 1)
    END BETWEEN DATE '2026-11-20' AND DATE '2026-11-20' + 7, false)
    AND email_opt_in AS birthday_this_week,
  first_name IS NULL OR birthday IS NULL OR job_role IS NULL AS incomplete_profiles,
  personal_email_addresses,
  -- geographic.segl (param min_enterprise_arr = 50_000)
  country IN ('DE', 'AT', 'CH') AS dach_customers,
  region = 'NA' AND plan <> 'free' AS north_america_paying,
  region = 'EMEA' AND plan = 'enterprise' AND arr >= 50000 AS enterprise_emea,
  region IN ('APAC', 'LATAM') AND plan <> 'free'
    AND signup_date BETWEEN DATE '2026-11-20' - INTERVAL 12 MONTH AND DATE '2026-11-20'
    AS emerging_market_newcomers,
  country = 'DE' AND coalesce(lower(city) IN ('münchen', 'munich', 'muenchen'), false)
    AS munich_customers,
  country NOT IN ('DE', 'AT', 'CH', 'FR', 'GB', 'US', 'CA') AS outside_core_markets,
  -- growth.segl
  seats_near_limit,
  heavy_usage_lower_plan,
  (seats_near_limit OR heavy_usage_lower_plan) AND NOT urgent_tickets_open AND health_score >= 40
    AS upsell_candidates,
  plan IN ('pro', 'enterprise') AND NOT list_contains(apps, 'salesforce')
    AND coalesce(company_industry IN ('software', 'finance'), false) AS integration_cross_sell,
  -- lifecycle.segl
  tenure_band = 'first_month' AS new_customers,
  signup_date < DATE '2026-11-20' - INTERVAL 2 YEAR
    AND coalesce(login_days_ago BETWEEN 0 AND 30, false) AND paid_order_count >= 5
    AS loyal_customers,
  inactive_users,
  plan <> 'free' AND inactive_users AND orders_last_90_days = 0 AS dormant_paying_customers,
  coalesce(login_days_ago BETWEEN 0 AND 7, false) AND signup_date < DATE '2026-11-20' - 90
    AND events_30_to_90_days_ago = 0 AS reactivated_users,
  CASE
    WHEN signup_date + to_years(2026 - year(signup_date)) >= DATE '2026-11-20'
      THEN signup_date + to_years(2026 - year(signup_date))
    ELSE signup_date + to_years(2027 - year(signup_date))
  END BETWEEN DATE '2026-11-20' AND DATE '2026-11-20' + 14
    AND signup_date < DATE '2026-11-20' - INTERVAL 6 MONTH AS signup_anniversary_soon,
  list_has_any(tags, ['churned', 'Churned', 'cancelling', 'Cancelling', 'canceling'])
    AS churn_tagged,
  -- trial_ends_on = signup_date + 1 month (31 January + 1 month = end of February)
  plan = 'free'
    AND signup_date + INTERVAL 1 MONTH BETWEEN DATE '2026-11-20' AND DATE '2026-11-20' + 3
    AS trial_ending_soon,
  coalesce(last_login > TIMESTAMPTZ '2026-11-20 23:59:59.999999 Europe/Berlin' - INTERVAL 36 HOUR,
    false) AS active_last_36_hours,
  -- needs.segl (param support_heavy_tickets = 3)
  tickets_last_90_days >= 3 AS support_heavy,
  urgent_tickets_open,
  unhappy_with_support,
  signup_date BETWEEN DATE '2026-11-20' - 30 AND DATE '2026-11-20'
    AND (feature_use_events < 3 OR onboarding_tickets > 0) AS struggling_onboarding,
  billing_last_60_days >= 1 AS billing_questions,
  coalesce(nps <= 6, false) AND tickets_last_year = 0 AS silent_detractors,
  -- psychographic.segl
  list_has_any(interests, ['sustainability', 'climate', 'outdoors']) AS sustainability_minded,
  list_has_all(interests, ['analytics', 'automation']) AS data_enthusiasts,
  len(interests) = 0 AND email_opt_in AS interests_unknown,
  -- rfm.segl
  rfm_class = 'champions' AS rfm_champions,
  rfm_class IN ('at_risk', 'cannot_lose_them') AS rfm_save_list,
  rfm_class IN ('new_buyers', 'promising', 'potential_loyalists') AS rfm_nurture,
  -- scores.segl (health_band is unhealthy: a health score below 0)
  plan <> 'free' AND health_score < 0 AS unhealthy_paying_customers,
  plan IN ('free', 'starter') AND lead_score >= 50 AS sales_ready_leads,
  -- seasonal.segl
  paid_last_holiday_season > 0 AS last_holiday_buyers,
  paid_in_december >= 2 AS december_regulars,
  paid_last_quarter >= 1 AS last_quarter_buyers,
  orders_last_year >= 1 AND orders_this_year = 0 AS lapsed_since_last_year,
  email_opt_in AND coalesce(month(birthday) = month(DATE '2026-11-20'), false) AS birthday_month,
  -- technographic.segl
  primary_device IN ('ios', 'android') AND logins_last_30_days >= 5 AS mobile_first,
  list_has_any(apps, ['salesforce', 'hubspot', 'pipedrive']) AS crm_integrated,
  len(apps) = 0 AND plan <> 'free' AS paying_without_integrations,
  api_calls_last_30_days >= 50 AS api_power_users,
  list_contains(apps, 'slack') AND NOT list_contains(features_used, 'reports')
    AS slack_without_reports,
  -- value.segl (param high_value_arr = 25_000)
  arr >= 25000 AS high_value_customers,
  arr_percentile >= 0.8 AS top_20_percent_customers,
  coalesce(lifetime_share >= 0.02, false) AS big_lifetime_spenders,
  -- tiers: demographic.segl, lifecycle.segl, rfm.segl, scores.segl, value.segl
  age_group,
  tenure_band,
  rfm_class,
  CASE WHEN health_score >= 40 THEN 'healthy' WHEN health_score >= 0 THEN 'neutral'
    ELSE 'unhealthy' END AS health_band,
  CASE
    WHEN arr >= 100000 THEN 'strategic'
    WHEN arr >= 25000 THEN 'high'
    WHEN arr >= 5000 THEN 'mid'
    WHEN arr > 0 THEN 'low'
    ELSE 'no_revenue'
  END AS arr_band,
  -- scores: scores.segl
  health_score,
  lead_score
FROM scored;

-- Membership of each company record.
WITH
-- Roll-up of each company's contacts (traits.segl, b2b.segl, growth.segl, scores.segl).
contacts_per_company AS (
  SELECT
    company_id,
    count(*) AS contact_count,
    count(*) FILTER (last_login >= TIMESTAMPTZ '2026-10-21 00:00 Europe/Berlin'
      AND last_login < TIMESTAMPTZ '2026-11-21 00:00 Europe/Berlin') AS active_contacts,
    count(DISTINCT job_role) AS roles,
    count(*) FILTER (job_role = 'decision_maker') AS decision_makers,
    count(*) FILTER (nps >= 9) AS promoters,
    count(*) FILTER (nps <= 6) AS detractors
  FROM customer
  WHERE company_id IS NOT NULL
  GROUP BY company_id
),
accounts AS (
  SELECT
    co.*,
    coalesce(k.contact_count, 0) AS contact_count,
    coalesce(k.active_contacts, 0) AS active_contacts,
    coalesce(k.roles, 0) AS roles,
    coalesce(k.decision_makers, 0) AS decision_makers,
    coalesce(k.promoters, 0) AS promoters,
    coalesce(k.detractors, 0) AS detractors,
    -- value.segl: population functions over all companies
    percent_rank() OVER (ORDER BY co.arr) AS arr_percentile,
    sum(co.arr) OVER (ORDER BY co.arr DESC
      RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)::DOUBLE
      / nullif(sum(co.arr) OVER (), 0)::DOUBLE AS cumulative_arr_share,
    rank() OVER (PARTITION BY co.region ORDER BY co.arr DESC) AS arr_rank_in_region
  FROM company AS co
  LEFT JOIN contacts_per_company AS k ON k.company_id = co.id
)
SELECT
  id,
  -- b2b.segl
  decision_makers > 0 AS accounts_with_decision_maker,
  contact_count = 1 AND arr > 0 AS single_threaded_accounts,
  contact_count >= 3 AND roles >= 2 AS multi_threaded_accounts,
  coalesce(renewal_date BETWEEN DATE '2026-11-20' AND DATE '2026-11-20' + 90, false)
    AS renewals_next_90_days,
  coalesce(renewal_date BETWEEN DATE '2026-11-20' AND DATE '2026-11-20' + 120, false)
    AND (active_contacts = 0 OR detractors > 0) AS renewal_at_risk,
  -- growth.segl
  active_contacts >= 5 AND active_contacts >= contact_count * 0.8 AS expanding_accounts,
  -- value.segl
  arr_percentile >= 0.8 AS top_accounts_by_arr,
  coalesce(cumulative_arr_share <= 0.8, false) AS pareto_accounts,
  arr_rank_in_region <= 3 AS regional_top_accounts,
  -- tiers: b2b.segl, value.segl
  CASE
    WHEN employees >= 1000 THEN 'large_enterprise'
    WHEN employees >= 100 THEN 'mid_market'
    ELSE 'small_business'
  END AS company_size,
  CASE
    WHEN cumulative_arr_share <= 0.8 THEN 'class_a'
    WHEN cumulative_arr_share <= 0.95 THEN 'class_b'
    ELSE 'class_c'
  END AS account_abc,
  -- scores.segl
  (CASE WHEN active_contacts >= 3 THEN 30 ELSE 0 END
    + CASE WHEN active_contacts BETWEEN 1 AND 2 THEN 10 ELSE 0 END
    + CASE WHEN active_contacts = 0 THEN -30 ELSE 0 END
    + CASE WHEN promoters > 0 THEN 20 ELSE 0 END
    + CASE WHEN detractors > 0 THEN -20 ELSE 0 END
    + CASE WHEN renewal_date BETWEEN DATE '2026-11-20' AND DATE '2026-11-20' + 60
        AND active_contacts <= 1 THEN -10 ELSE 0 END)::BIGINT AS account_health
FROM accounts
