-- W1 by hand for DuckDB: the twenty segments of segments.segl as of 2026-11-20 (Europe/Berlin).
-- A test on an unknown value is false, so every condition that can meet NULL is wrapped in
-- coalesce(..., false); `is not` (IS DISTINCT FROM) keeps the unknowns. Windows are whole local
-- days, both ends included.

-- Membership of each customer record.
WITH c AS (
  SELECT *, (last_login AT TIME ZONE 'Europe/Berlin')::DATE AS login_day,
    year(DATE '2026-11-20') - year(birthday) AS years_old
  FROM customer
)
SELECT
  id,
  region = 'EMEA' AND plan = 'enterprise' AND arr >= 50000 AS enterprise_emea,
  plan IN ('starter', 'pro', 'enterprise') AND seats BETWEEN 10 AND 49 AS mid_sized_paying,
  country IN ('SE', 'NO', 'DK', 'FI', 'IS') AND plan <> 'free' AS nordic_paying,
  coalesce(nps >= 9, false) AS promoters,
  nps IS DISTINCT FROM 10 AS not_a_ten,
  regexp_matches(email, '@(gmail|yahoo|outlook)[.]com$') AS free_mail,
  coalesce(lower(city) IN ('münchen', 'munich', 'muenchen'), false) AS munich_any_spelling,
  coalesce(login_day BETWEEN DATE '2026-11-20' - INTERVAL 30 DAY AND DATE '2026-11-20', false)
    AS active_last_30_days,
  signup_date < DATE '2026-11-20' - INTERVAL 1 YEAR AS long_time_customers,
  last_login IS NULL OR login_day < DATE '2026-11-20' - INTERVAL 90 DAY AS dormant,
  list_contains(interests, 'travel') AS travel_fans,
  list_has_any(apps, ['slack', 'teams']) AS chat_integrations,
  list_has_all(features_used, ['reports', 'api']) AS reports_and_api,
  len(tags) = 0 AS untagged,
  coalesce(arr::DOUBLE / nullif(seats, 0) > 2000, false) AS expensive_seats,
  email_opt_in AND primary_device IN ('ios', 'android') AS mobile_opted_in,
  signup_date BETWEEN date_trunc('quarter', DATE '2026-11-20') - INTERVAL 3 MONTH
    AND date_trunc('quarter', DATE '2026-11-20') - INTERVAL 1 DAY AS signed_up_last_quarter,
  -- the next birthday on or after the as-of date (29 February: 28 February in other years)
  coalesce(CASE
      WHEN birthday + to_years(years_old) >= DATE '2026-11-20' THEN birthday + to_years(years_old)
      ELSE birthday + to_years(years_old + 1)
    END BETWEEN DATE '2026-11-20' AND DATE '2026-11-20' + INTERVAL 14 DAY, false)
    AND email_opt_in AS birthday_next_fortnight,
  company_id IS NULL AND plan <> 'free' AS b2c_paying,
  job_role IS DISTINCT FROM 'decision_maker' AND NOT list_contains(tags, 'vip')
    AS non_vip_non_deciders
FROM c
