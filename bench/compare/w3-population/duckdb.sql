-- W3 by hand for DuckDB: the segments of segments.segl. Population functions as segl defines
-- them: percentile = percent_rank() (ascending, ties share the lowest rank); rank = rank() from
-- the largest value; ntile(k) = floor(k * percentile) + 1, at most k; share = value / total;
-- cumulative share = the total of all values at least as large (RANGE: ties count in full) /
-- total. Records with an unknown value are ranked apart and are in no such segment.

-- Membership of each customer record.
SELECT
  id,
  percent_rank() OVER (ORDER BY arr) >= 0.8 AS top_fifth_by_arr,
  percent_rank() OVER (PARTITION BY region ORDER BY arr) >= 0.9 AS regional_top_tenth,
  rank() OVER (PARTITION BY region ORDER BY arr DESC) <= 10 AS regional_top_10,
  least(10, floor(10 * percent_rank() OVER (PARTITION BY region ORDER BY seats)) + 1) = 10
    AS top_decile_seats_in_region,
  least(4, floor(4 * percent_rank() OVER (PARTITION BY plan ORDER BY seats)) + 1) = 1
    AS bottom_quartile_seats_in_plan,
  coalesce(nps IS NOT NULL AND percent_rank() OVER (PARTITION BY region, nps IS NULL
    ORDER BY nps) >= 0.75, false) AS regional_nps_leaders,
  least(100, floor(100 * percent_rank() OVER (PARTITION BY region ORDER BY arr)) + 1) = 100
    AS top_percent_in_region,
  arr::DOUBLE / sum(arr) OVER ()::DOUBLE >= 0.0001 AS big_share_customers,
  sum(arr) OVER (ORDER BY arr DESC RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)::DOUBLE
    / sum(arr) OVER ()::DOUBLE <= 0.5 AS customer_arr_core
FROM customer;

-- Membership of each company record.
WITH s AS (
  SELECT *,
    sum(arr) OVER (ORDER BY arr DESC RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)::DOUBLE
      / sum(arr) OVER ()::DOUBLE AS cumulative_share
  FROM company
)
SELECT
  id,
  cumulative_share <= 0.8 AS pareto_accounts,
  percent_rank() OVER (ORDER BY arr) >= 0.8 AS top_accounts_by_arr,
  rank() OVER (PARTITION BY region ORDER BY arr DESC) <= 3 AS regional_top_accounts,
  arr::DOUBLE / sum(arr) OVER ()::DOUBLE >= 0.005 AS big_accounts,
  least(5, floor(5 * percent_rank() OVER (PARTITION BY industry ORDER BY employees)) + 1) = 5
    AS top_employers_in_industry,
  CASE WHEN cumulative_share <= 0.8 THEN 'class_a' WHEN cumulative_share <= 0.95 THEN 'class_b'
    ELSE 'class_c' END AS account_abc
FROM s
