-- W2 by hand for DuckDB: the segments of segments.segl as of 2026-11-20. One pass over the
-- orders computes every aggregate per customer (FILTER per window); counts and sums over no
-- orders are 0, the average and the latest date unknown. Quintiles follow segl's definition:
-- percent_rank (ties share the lowest rank) times 5, rounded down, plus 1, at most 5, among
-- buyers and non-buyers apart, customers with an unknown value apart (and unknown).

-- Membership of each customer record.
WITH o AS (
  SELECT
    customer_id,
    count(*) AS orders,
    count(*) FILTER (status = 'paid') AS paid_orders,
    sum(amount) FILTER (status = 'paid') AS paid_total,
    max(placed_on) FILTER (status = 'paid') AS last_paid_on,
    count(*) FILTER (status = 'paid' AND placed_on BETWEEN DATE '2026-11-20' - INTERVAL 30 DAY
      AND DATE '2026-11-20') AS paid_30d,
    sum(amount) FILTER (status = 'paid' AND placed_on BETWEEN DATE '2026-11-20' - INTERVAL 90 DAY
      AND DATE '2026-11-20') AS paid_total_90d,
    count(*) FILTER (status = 'paid' AND amount >= 500 AND placed_on BETWEEN DATE '2026-11-20'
      - INTERVAL 7 DAY AND DATE '2026-11-20') AS big_paid_7d,
    count(*) FILTER (status = 'refunded') AS refunded,
    count(*) FILTER (channel <> 'sales') AS not_via_sales,
    sum(amount) FILTER (status = 'paid' AND placed_on BETWEEN DATE '2026-10-01'
      AND DATE '2026-12-31') AS paid_total_this_quarter,
    count(DISTINCT category) FILTER (placed_on BETWEEN DATE '2026-11-20' - INTERVAL 365 DAY
      AND DATE '2026-11-20') AS categories_365d,
    count(*) FILTER (status = 'paid' AND placed_on BETWEEN DATE '2026-11-20' - INTERVAL 90 DAY
      AND DATE '2026-11-20' - INTERVAL 30 DAY) AS paid_30_to_90d_ago,
    count(*) FILTER (placed_on BETWEEN DATE '2026-11-20' - INTERVAL 29 DAY
      AND DATE '2026-11-20') AS orders_29d
  FROM "order"
  GROUP BY customer_id
),
c AS (
  SELECT
    customer.id,
    coalesce(o.orders, 0) AS orders,
    coalesce(o.paid_orders, 0) AS paid_order_count,
    coalesce(o.paid_orders, 0) >= 1 AS is_buyer,
    coalesce(o.paid_total, 0) AS lifetime_value,
    o.paid_total / nullif(o.paid_orders, 0) AS average_paid,
    DATE '2026-11-20' - o.last_paid_on AS days_since_last_order,
    o.*
  FROM customer LEFT JOIN o ON o.customer_id = customer.id
),
q AS (
  SELECT *,
    CASE WHEN days_since_last_order IS NOT NULL THEN 6 - least(5, 1 + floor(5 * percent_rank()
      OVER (PARTITION BY is_buyer, days_since_last_order IS NULL
            ORDER BY days_since_last_order))) END AS r_score,
    least(5, 1 + floor(5 * percent_rank() OVER (PARTITION BY is_buyer
      ORDER BY paid_order_count))) AS f_score,
    least(5, 1 + floor(5 * percent_rank() OVER (PARTITION BY is_buyer
      ORDER BY lifetime_value))) AS m_score
  FROM c
)
SELECT
  id,
  coalesce(paid_30d >= 2, false) AS frequent_recent,
  coalesce(paid_total_90d > 1000, false) AS big_spenders_90_days,
  is_buyer AND coalesce(days_since_last_order > 180, false) AS lapsed_buyers,
  coalesce(big_paid_7d >= 1, false) AS recent_big_order,
  coalesce(refunded >= 2, false) AS frequent_refunders,
  orders >= 1 AND coalesce(not_via_sales, 0) = 0 AS sales_only,
  coalesce(average_paid > 250, false) AS high_average_order,
  coalesce(paid_total_this_quarter > 500, false) AS spent_this_quarter,
  coalesce(categories_365d >= 4, false) AS broad_shoppers,
  coalesce(paid_30_to_90d_ago >= 1, false) AND coalesce(orders_29d, 0) = 0 AS quiet_after_buying,
  NOT is_buyer AS never_paid,
  is_buyer AND coalesce(r_score >= 4 AND f_score + m_score >= 9, false) AS rfm_champions,
  is_buyer AND coalesce(r_score <= 2 AND f_score + m_score >= 6, false) AS rfm_at_risk,
  is_buyer AND coalesce(r_score = 5 AND f_score = 1, false) AS rfm_new_buyers
FROM q
