use leptos::prelude::*;

use crate::error::AppError;
use crate::types::OverviewView;

/// Sent, accepted, bounce and complaint rates, held now, reach and time to
/// receipt for today, 7 and 30 days, from the rollups. Managers and agents.
#[server(prefix = "/fn", endpoint = "stats/overview")]
pub async fn stats_overview() -> Result<OverviewView, AppError> {
    use crate::ssr::{require_role, state};
    use engine::accounts::Role;
    use engine::stats;
    let st = state()?;
    let staff = require_role(&[Role::Agent, Role::Manager]).await?;
    let now = st.now();
    let today = stats::day_of(now);
    // One read of the last 30 days, per day: the windows and the sparklines.
    let rows = stats::by_day(&st.db, today - 29, today, stats::Group::Day).await?;
    let daily: Vec<stats::Counts> = (today - 29..=today)
        .map(|d| {
            rows.iter()
                .find(|(day, _, _)| *day == d)
                .map(|(_, _, c)| c.clone())
                .unwrap_or_default()
        })
        .collect();
    let sum = |days: usize| {
        let mut total = stats::Counts::default();
        for c in &daily[daily.len() - days..] {
            total.add(c);
        }
        total
    };
    let windows = [("Today (UTC)", 1), ("Last 7 days", 7), ("Last 30 days", 30)]
        .into_iter()
        .map(|(label, days)| view::window(label, &sum(days)))
        .collect();
    let (held_now, oldest) = stats::held_now(&st.db).await?;
    let cases = stats::cases_needing_agent(&st.db, now).await?;
    let kpis = view::kpis(
        &daily,
        &sum(7),
        cases,
        held_now,
        staff.user.role != Role::Manager,
    );
    let refreshed = stats::refreshed_at(&st.db).await?;
    let demo_data = engine::demo::present(&st.db).await?;
    let mut pool_alerts: Vec<String> = engine::delivery::guard::alerts(&st.db)
        .await?
        .into_iter()
        .flat_map(|p| {
            let rates = (p.health_state != "ok").then(|| {
                format!(
                    "Sender pool {} was {} automatically{}: {}.",
                    p.name,
                    p.health_state,
                    p.health_changed_at
                        .map(|t| format!(" at {}", engine::clock::format_utc(t)))
                        .unwrap_or_default(),
                    p.health_reason.clone().unwrap_or_default()
                )
            });
            let relay = p.relay_down_since.map(|t| {
                format!(
                    "Sender pool {}'s relay has not answered since {}: {}; its mail goes through the other pools.",
                    p.name,
                    engine::clock::format_utc(t),
                    p.relay_reason.clone().unwrap_or_default()
                )
            });
            rates.into_iter().chain(relay)
        })
        .collect();
    let pools = engine::delivery::pools::list(&st.db).await?;
    for s in engine::delivery::pace::slowed(&st.db, now).await? {
        pool_alerts.push(format!(
            "Sending from {} to {} is slowed {}× until {} (rule {}).",
            engine::delivery::pools::name_of(&pools, s.pool_id),
            s.provider,
            s.slow_factor,
            engine::clock::format_utc(s.slow_until),
            s.slow_rule.unwrap_or_default()
        ));
    }
    Ok(OverviewView {
        windows,
        held_now,
        oldest_held: oldest.map(|t| {
            format!(
                "held for {} (since {})",
                view::duration_text(now - t),
                engine::clock::format_utc(t)
            )
        }),
        refreshed: refreshed.map(engine::clock::format_utc),
        demo_data,
        pool_alerts,
        kpis,
    })
}

#[cfg(feature = "ssr")]
pub(crate) mod view {
    use crate::types::{KpiTile, OverviewWindow, RateView};
    use engine::stats::charts::{Point, class_label, rate_point};
    use engine::stats::svg::{Threshold, sparkline};
    use engine::stats::{self, BOUNCE_CLASSES, Counts, Level, MIN_SAMPLE, Worse};

    /// 12345 → "12,345".
    pub fn thousands(n: i64) -> String {
        let s = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(ch);
        }
        if n < 0 { format!("-{out}") } else { out }
    }

    /// A percentage with enough digits to compare against 0.1 %.
    pub fn percent(rate: Option<f64>, digits: usize) -> String {
        match rate {
            Some(r) => format!("{:.*} %", digits, r * 100.0),
            None => "–".into(),
        }
    }

    pub fn duration_text(ms: i64) -> String {
        let m = ms.max(0) / 60_000;
        if m < 120 {
            format!("{m} min")
        } else if m < 48 * 60 {
            format!("{} h {} min", m / 60, m % 60)
        } else {
            format!("{} days {} h", m / 1440, (m % 1440) / 60)
        }
    }

    /// "Too few to rate" instead of a level: measured on fewer than
    /// [`MIN_SAMPLE`].
    pub const UNRATED: &str = "Too few to rate";

    fn rate(
        label: &str,
        value: Option<f64>,
        digits: usize,
        detail: String,
        level: Option<(Option<Level>, &str)>,
    ) -> RateView {
        // Nothing measured: no level to show (the threshold still is, in the
        // row); measured on too little to be sure: said so, no level.
        let (level, level_label, threshold) = match level {
            Some((None, t)) if value.is_some() => ("none", UNRATED, t.to_string()),
            Some((Some(l), t)) if value.is_some() => (l.as_str(), l.label(), t.to_string()),
            _ => ("none", "", String::new()),
        };
        RateView {
            label: label.into(),
            value: percent(value, digits),
            detail,
            level: level.into(),
            level_label: level_label.into(),
            threshold,
        }
    }

    const BOUNCE_THRESHOLD: &str = "Warning at 5 %, critical at 10 % of sent";
    const COMPLAINT_THRESHOLD: &str = "Warning at 0.1 %, critical at 0.3 % of accepted";

    pub fn window(label: &str, c: &Counts) -> OverviewWindow {
        let sent = format!("{} of {} sent", thousands(c.bounces()), thousands(c.sent));
        let bounce_level =
            stats::evidenced_level(c.bounces(), c.sent, stats::bounce_level, Worse::Higher);
        OverviewWindow {
            label: label.into(),
            orders: c.orders,
            sent: c.sent,
            accepted: c.accepted,
            bounce: rate(
                "Bounce rate",
                c.bounce_rate(),
                1,
                sent,
                Some((bounce_level, BOUNCE_THRESHOLD)),
            ),
            classes: BOUNCE_CLASSES
                .iter()
                .enumerate()
                .map(|(i, class)| {
                    let mut label = class_label(class).to_string();
                    if let Some(first) = label.get_mut(0..1) {
                        first.make_ascii_uppercase();
                    }
                    rate(
                        &label,
                        c.class_rate(i),
                        1,
                        format!("{} of {} sent", thousands(c.bounced[i]), thousands(c.sent)),
                        None,
                    )
                })
                .collect(),
            complaints: rate(
                "Complaint rate",
                c.complaint_rate(),
                2,
                format!(
                    "{} of {} accepted",
                    thousands(c.complaints),
                    thousands(c.accepted)
                ),
                Some((
                    stats::evidenced_level(
                        c.complaints,
                        c.accepted,
                        stats::complaint_level,
                        Worse::Higher,
                    ),
                    COMPLAINT_THRESHOLD,
                )),
            ),
            reach: rate(
                "Reach rate",
                c.reach_rate(),
                1,
                format!(
                    "{} of {} orders reached",
                    thousands(c.reached),
                    thousands(c.orders)
                ),
                None,
            ),
            ttr_median: c
                .ttr_quantile(0.5)
                .map(|t| t.text())
                .unwrap_or_else(|| "–".into()),
            ttr_p90: c
                .ttr_quantile(0.9)
                .map(|t| t.text())
                .unwrap_or_else(|| "–".into()),
        }
    }

    const REACH_THRESHOLD: &str = "Warning below 95 %, critical below 90 % of orders";
    const TTR_THRESHOLD: &str = "Warning from 5 min, critical from 30 min";

    /// A tile's level and its words; `level` is `None` when the value is too
    /// few to rate.
    fn level_of(level: Option<Level>, has_value: bool) -> (String, String) {
        match (has_value, level) {
            (false, _) => ("none".into(), "No data yet".into()),
            (true, None) => ("none".into(), UNRATED.into()),
            (true, Some(l)) => (l.as_str().into(), l.label().into()),
        }
    }

    fn thresholds(w: f64, c: f64, above: bool) -> [Threshold; 2] {
        [
            Threshold {
                at: w,
                level: Level::Warning,
                above,
            },
            Threshold {
                at: c,
                level: Level::Critical,
                above,
            },
        ]
    }

    /// "from 1.2 % to 6.0 %, yesterday 3.1 %": a sparkline's numbers in words.
    fn spark_words(what: &str, points: &[Point], min_sample: i64, unit: &str) -> String {
        let rated: Vec<f64> = points
            .iter()
            .filter(|p| p.of >= min_sample)
            .filter_map(|p| p.value)
            .collect();
        let text = |v: f64| engine::stats::svg::value_text(v, unit);
        match (
            rated.iter().cloned().reduce(f64::min),
            rated.iter().cloned().reduce(f64::max),
        ) {
            (Some(lo), Some(hi)) => format!(
                "{what} per day over the last 30 days: between {} and {}; the latest rated day {}.",
                text(lo),
                text(hi),
                text(*rated.last().unwrap_or(&hi))
            ),
            _ => format!("{what} per day over the last 30 days: too few to draw."),
        }
    }

    /// A sparkline's data: the points (oldest first), the sample a point
    /// needs to be rated, its threshold bands, what it measures and the unit.
    struct Spark<'a> {
        points: Vec<Point>,
        min_sample: i64,
        bands: &'a [Threshold],
        what: &'a str,
        unit: &'a str,
    }

    struct Head<'a> {
        key: &'a str,
        label: &'a str,
        value: String,
        level: (String, String),
        detail: String,
        threshold: &'a str,
    }

    fn tile(h: Head<'_>, s: Spark<'_>) -> KpiTile {
        let words = spark_words(s.what, &s.points, s.min_sample, s.unit);
        KpiTile {
            key: h.key.into(),
            label: h.label.into(),
            value: h.value,
            level: h.level.0,
            level_label: h.level.1,
            detail: h.detail,
            threshold: h.threshold.into(),
            spark_svg: sparkline(&s.points, s.min_sample, s.bands, &words),
            spark_note: format!("{} per day, last 30 days", s.what),
            link: None,
        }
    }

    /// A rate tile: the last 7 days (`week`: `count` of `of`) against its
    /// thresholds, and the same rate per day.
    struct RateTile<'a> {
        key: &'a str,
        label: &'a str,
        digits: usize,
        level: fn(Option<f64>) -> Level,
        /// Which way the rate goes wrong.
        worse: Worse,
        threshold: &'a str,
        bands: [Threshold; 2],
        /// (count, of) of a day's counters.
        of: fn(&Counts) -> (i64, i64),
        /// "orders reached", "sent".
        noun: &'a str,
    }

    fn rate_tile(r: RateTile<'_>, daily: &[Counts], week: &Counts) -> KpiTile {
        let (count, of) = (r.of)(week);
        let value = (of > 0).then(|| count as f64 / of as f64);
        tile(
            Head {
                key: r.key,
                label: r.label,
                value: percent(value, r.digits),
                level: level_of(
                    stats::evidenced_level(count, of, r.level, r.worse),
                    value.is_some(),
                ),
                detail: format!(
                    "{} of {} {}, last 7 days",
                    thousands(count),
                    thousands(of),
                    r.noun
                ),
                threshold: r.threshold,
            },
            Spark {
                points: daily
                    .iter()
                    .map(|c| {
                        let (n, of) = (r.of)(c);
                        rate_point(n, of)
                    })
                    .collect(),
                min_sample: MIN_SAMPLE,
                bands: &r.bands,
                what: r.label,
                unit: "%",
            },
        )
    }

    /// The five tiles: reach, bounce and complaint rate, median time to
    /// receipt over the last 7 days (`week`), and the support cases open now
    /// (`cases`: open, past SLA), each with its 30-day sparkline from `daily`
    /// (oldest first).
    pub fn kpis(
        daily: &[Counts],
        week: &Counts,
        cases: (i64, i64),
        held_now: i64,
        show_held_link: bool,
    ) -> Vec<KpiTile> {
        let rates = [
            RateTile {
                key: "reach",
                label: "Reach rate",
                digits: 1,
                level: stats::reach_level,
                worse: Worse::Lower,
                threshold: REACH_THRESHOLD,
                bands: thresholds(
                    stats::REACH_RATE_WARNING * 100.0,
                    stats::REACH_RATE_CRITICAL * 100.0,
                    false,
                ),
                of: |c| (c.reached, c.orders),
                noun: "orders reached",
            },
            RateTile {
                key: "bounce",
                label: "Bounce rate",
                digits: 1,
                level: stats::bounce_level,
                worse: Worse::Higher,
                threshold: "Warning from 5 %, critical from 10 % of sent",
                bands: thresholds(
                    stats::BOUNCE_RATE_WARNING * 100.0,
                    stats::BOUNCE_RATE_CRITICAL * 100.0,
                    true,
                ),
                of: |c| (c.bounces(), c.sent),
                noun: "sent",
            },
            RateTile {
                key: "complaint",
                label: "Complaint rate",
                digits: 2,
                level: stats::complaint_level,
                worse: Worse::Higher,
                threshold: "Warning from 0.1 %, critical from 0.3 % of accepted",
                bands: thresholds(
                    stats::COMPLAINT_RATE_WARNING * 100.0,
                    stats::COMPLAINT_RATE_CRITICAL * 100.0,
                    true,
                ),
                of: |c| (c.complaints, c.accepted),
                noun: "accepted",
            },
        ];
        let mut tiles: Vec<KpiTile> = rates
            .into_iter()
            .map(|r| rate_tile(r, daily, week))
            .collect();
        tiles.push(ttr_tile(daily, week));
        let mut cases = cases_tile(daily, cases, held_now);
        if show_held_link {
            cases.link = Some(("/held".into(), "Open the held queue".into()));
        }
        tiles.push(cases);
        tiles
    }

    fn ttr_tile(daily: &[Counts], week: &Counts) -> KpiTile {
        let median = week.ttr_quantile(0.5);
        tile(
            Head {
                key: "ttr",
                label: "Median time to receipt",
                value: median.map(|t| t.text()).unwrap_or_else(|| "–".into()),
                level: level_of(
                    stats::rated(week.reached).then(|| stats::ttr_level(median.map(|t| t.minutes))),
                    median.is_some(),
                ),
                detail: format!(
                    "from the order to the customer having it, over {} reached orders, last 7 days",
                    thousands(week.reached)
                ),
                threshold: TTR_THRESHOLD,
            },
            Spark {
                points: daily
                    .iter()
                    .map(|c| Point {
                        value: c.ttr_quantile(0.5).map(|t| t.minutes),
                        count: c.reached,
                        of: c.reached,
                    })
                    .collect(),
                min_sample: MIN_SAMPLE,
                bands: &thresholds(
                    stats::TTR_MEDIAN_WARNING_MIN,
                    stats::TTR_MEDIAN_CRITICAL_MIN,
                    true,
                ),
                what: "Median time to receipt",
                unit: "min",
            },
        )
    }

    /// Cases needing an agent now; the sparkline is orders held per day (a
    /// held order is not a case: most wait for a fallback, not a person).
    fn cases_tile(daily: &[Counts], (open, overdue): (i64, i64), held_now: i64) -> KpiTile {
        let level = if overdue > 0 {
            Level::Critical
        } else if open > 0 {
            Level::Warning
        } else {
            Level::Ok
        };
        tile(
            Head {
                key: "cases",
                label: "Cases needing an agent",
                value: thousands(open),
                level: (level.as_str().into(), level.label().into()),
                detail: format!(
                    "{} past their SLA. Not the same as the {} orders held, not yet reached: most of those wait for a fallback (a link by SMS, a masked re-send), not for a person.",
                    thousands(overdue),
                    thousands(held_now)
                ),
                threshold: "Warning with any case open, critical with any past its SLA",
            },
            Spark {
                points: daily
                    .iter()
                    .map(|c| Point {
                        value: Some(c.held as f64),
                        count: c.held,
                        of: c.held,
                    })
                    .collect(),
                min_sample: 0,
                bands: &[],
                what: "Orders held",
                unit: "",
            },
        )
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn numbers_and_levels_in_words() {
            assert_eq!(thousands(1234567), "1,234,567");
            assert_eq!(thousands(999), "999");
            assert_eq!(percent(Some(0.0012), 2), "0.12 %");
            assert_eq!(percent(None, 1), "–");
            let c = Counts {
                orders: 100,
                sent: 200,
                accepted: 180,
                bounced: [6, 8, 4, 2],
                complaints: 1,
                reached: 90,
                ..Default::default()
            };
            let w = window("Last 7 days", &c);
            assert_eq!(w.bounce.value, "10.0 %");
            assert_eq!(
                (w.bounce.level.as_str(), w.bounce.level_label.as_str()),
                ("critical", "Critical")
            );
            assert_eq!(w.bounce.detail, "20 of 200 sent");
            // 3 of 15 sent: the rate, but no level.
            let small = window(
                "Today (UTC)",
                &Counts {
                    sent: 15,
                    accepted: 12,
                    bounced: [3, 0, 0, 0],
                    ..Default::default()
                },
            );
            assert_eq!(
                (small.bounce.value.as_str(), small.bounce.level.as_str()),
                ("20.0 %", "none")
            );
            assert_eq!(small.bounce.level_label, UNRATED);
            assert_eq!(w.classes[0].label, "Recipient permanent");
            assert_eq!(w.classes[1].value, "4.0 %");
            assert_eq!(w.complaints.value, "0.56 %");
            // One complaint in 180 is 0.56 %, but could as well be 0.1 %.
            assert_eq!(w.complaints.level, "none");
            assert_eq!(w.complaints.level_label, UNRATED);
            assert_eq!(w.reach.value, "90.0 %");
            assert_eq!(w.ttr_median, "–");
            let empty = window("Today (UTC)", &Counts::default());
            assert_eq!(
                (empty.bounce.value.as_str(), empty.bounce.level.as_str()),
                ("–", "none")
            );
            assert_eq!(duration_text(3 * 3_600_000 + 5 * 60_000), "3 h 5 min");
        }

        #[test]
        fn tiles_name_cases_and_held_orders_apart() {
            let day = Counts {
                orders: 40,
                sent: 40,
                accepted: 38,
                bounced: [2, 0, 0, 0],
                reached: 39,
                held: 1,
                ..Default::default()
            };
            let daily = vec![day.clone(); 30];
            let mut week = Counts::default();
            for c in &daily[..7] {
                week.add(c);
            }
            let tiles = kpis(&daily, &week, (2, 1), 47, true);
            let keys: Vec<&str> = tiles.iter().map(|t| t.key.as_str()).collect();
            assert_eq!(keys, ["reach", "bounce", "complaint", "ttr", "cases"]);
            assert_eq!(tiles[0].value, "97.5 %");
            assert_eq!(tiles[0].level, "ok");
            // 14 of 280 is 5.0 %, right at the warning line, but as likely
            // 3 %: no level without the evidence.
            assert_eq!(
                (tiles[1].value.as_str(), tiles[1].level.as_str()),
                ("5.0 %", "none")
            );
            assert_eq!(tiles[1].level_label, UNRATED);
            assert!(tiles[1].spark_svg.starts_with("<svg"));
            assert!(tiles[1].spark_svg.contains("between 5.0 % and 5.0 %"));
            assert_eq!(tiles[3].level_label, "No data yet");
            let cases = &tiles[4];
            assert_eq!(
                (cases.value.as_str(), cases.level.as_str()),
                ("2", "critical")
            );
            assert!(cases.detail.contains("1 past their SLA"));
            assert!(cases.detail.contains("47 orders held, not yet reached"));
            assert_eq!(cases.link.as_ref().map(|l| l.0.as_str()), Some("/held"));
        }
    }
}
