-- The risk-decile chart read every scored order of its range (with two
-- EXISTS probes each) on every view: seconds at a million orders. Now it is
-- a rollup like the others: per arrival day and score decile, live orders
-- plus those retention retired (stats_retired_risk), rebuilt with the day
-- (stats::rebuild_day).
CREATE TABLE stats_risk_daily (
    day        BIGINT NOT NULL,
    decile     BIGINT NOT NULL,
    orders     BIGINT NOT NULL,
    score_sum  BIGINT NOT NULL,
    bounced    BIGINT NOT NULL,
    held       BIGINT NOT NULL,
    PRIMARY KEY (day, decile)
);

-- Existing history, once (live scored orders plus those retention retired);
-- later days are kept up to date by the refresh.
WITH r(day, decile, orders, score_sum, bounced, held) AS (
    SELECT o.created_at / 86400000, CASE WHEN o.risk_score >= 90 THEN 9 ELSE o.risk_score / 10 END,
           COUNT(*), CAST(SUM(o.risk_score) AS BIGINT),
           CAST(SUM(CASE WHEN EXISTS (
                    SELECT 1 FROM delivery_attempts a WHERE a.order_id = o.id
                    AND a.outcome IN ('rejected', 'deferred', 'failed'))
                OR EXISTS (
                    SELECT 1 FROM bounces b WHERE b.order_id = o.id
                    AND b.class IN ('recipient_permanent', 'sender_reputation', 'transient', 'content'))
                THEN 1 ELSE 0 END) AS BIGINT),
           CAST(SUM(CASE WHEN o.state = 'held' THEN 1 ELSE 0 END) AS BIGINT)
    FROM orders o WHERE o.risk_score IS NOT NULL
    GROUP BY 1, 2
    UNION ALL
    SELECT day, decile, orders, score_sum, bounced, held FROM stats_retired_risk
)
INSERT INTO stats_risk_daily (day, decile, orders, score_sum, bounced, held)
SELECT day, decile, SUM(orders), SUM(score_sum), SUM(bounced), SUM(held) FROM r GROUP BY day, decile;
