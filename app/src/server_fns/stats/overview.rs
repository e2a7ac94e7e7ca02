use leptos::prelude::*;

use crate::types::OverviewView;

/// Sent, accepted, bounce and complaint rates, held now, reach and time to
/// receipt for today, 7 and 30 days, from the rollups. Managers and agents.
#[server(prefix = "/fn", endpoint = "stats/overview")]
pub async fn stats_overview() -> Result<OverviewView, ServerFnError> {
    use crate::ssr::{engine_error, require_role, state};
    use engine::accounts::Role;
    use engine::stats;
    let st = state()?;
    require_role(&[Role::Agent, Role::Manager]).await?;
    let now = st.now();
    let today = stats::day_of(now);
    let mut windows = Vec::new();
    for (label, days) in [("Today (UTC)", 1), ("Last 7 days", 7), ("Last 30 days", 30)] {
        let c = stats::totals(&st.db, today - days + 1, today)
            .await
            .map_err(engine_error)?;
        windows.push(view::window(label, &c));
    }
    let (held_now, oldest) = stats::held_now(&st.db).await.map_err(engine_error)?;
    let refreshed = stats::refreshed_at(&st.db).await.map_err(engine_error)?;
    let demo_data = engine::demo::present(&st.db).await.map_err(engine_error)?;
    let mut pool_alerts: Vec<String> = engine::delivery::guard::alerts(&st.db)
        .await
        .map_err(engine_error)?
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
    let pools = engine::delivery::pools::list(&st.db)
        .await
        .map_err(engine_error)?;
    for s in engine::delivery::pace::slowed(&st.db, now)
        .await
        .map_err(engine_error)?
    {
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
    })
}

#[cfg(feature = "ssr")]
pub(crate) mod view {
    use crate::types::{OverviewWindow, RateView};
    use engine::stats::{self, BOUNCE_CLASSES, Counts, Level, charts::class_label};

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

    fn rate(
        label: &str,
        value: Option<f64>,
        digits: usize,
        detail: String,
        level: Option<(Level, &str)>,
    ) -> RateView {
        // Nothing measured: no level to show (the threshold still is, in the row).
        let (level, level_label, threshold) = match level {
            Some((l, t)) if value.is_some() => (l.as_str(), l.label(), t.to_string()),
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
        let bounce_level = stats::bounce_level(c.bounce_rate());
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
                    stats::complaint_level(c.complaint_rate()),
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
            assert_eq!(w.classes[0].label, "Recipient permanent");
            assert_eq!(w.classes[1].value, "4.0 %");
            assert_eq!(w.complaints.value, "0.56 %");
            assert_eq!(w.complaints.level, "critical");
            assert_eq!(w.reach.value, "90.0 %");
            assert_eq!(w.ttr_median, "–");
            let empty = window("Today (UTC)", &Counts::default());
            assert_eq!(
                (empty.bounce.value.as_str(), empty.bounce.level.as_str()),
                ("–", "none")
            );
            assert_eq!(duration_text(3 * 3_600_000 + 5 * 60_000), "3 h 5 min");
        }
    }
}
