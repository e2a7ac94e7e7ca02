//! The data behind each trend chart, read from the rollups. Drawing (SVG) and
//! CSV are the server's business; this is numbers and their names.

use serde::{Deserialize, Serialize};

use super::svg::{self, Layout, Threshold};
use super::{BOUNCE_CLASSES, Counts, Group, Level, PROVIDERS, by_day, day_text, retries};
use crate::db::Db;
use crate::error::Result;

/// The trend charts, each served at `/charts/<name>.svg` and `.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChartKind {
    BounceClass,
    BounceProvider,
    BouncePool,
    BounceNetwork,
    Complaint,
    Reach,
    TimeToReceipt,
    Retry,
    RiskDecile,
}

impl ChartKind {
    pub const ALL: [ChartKind; 9] = [
        ChartKind::BounceClass,
        ChartKind::BounceProvider,
        ChartKind::BouncePool,
        ChartKind::BounceNetwork,
        ChartKind::Complaint,
        ChartKind::Reach,
        ChartKind::TimeToReceipt,
        ChartKind::Retry,
        ChartKind::RiskDecile,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ChartKind::BounceClass => "bounce-class",
            ChartKind::BounceProvider => "bounce-provider",
            ChartKind::BouncePool => "bounce-pool",
            ChartKind::BounceNetwork => "bounce-network",
            ChartKind::Complaint => "complaint",
            ChartKind::Reach => "reach",
            ChartKind::TimeToReceipt => "time-to-receipt",
            ChartKind::Retry => "retry",
            ChartKind::RiskDecile => "risk-decile",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn title(self) -> &'static str {
        match self {
            ChartKind::BounceClass => "Daily bounce rate by class",
            ChartKind::BounceProvider => "Daily bounce rate by recipient provider",
            ChartKind::BouncePool => "Daily bounce rate by sender pool",
            ChartKind::BounceNetwork => {
                "Daily bounce rate: VPN and other flagged networks vs the rest"
            }
            ChartKind::Complaint => "Daily complaint rate",
            ChartKind::Reach => "Daily reach rate and held orders",
            ChartKind::TimeToReceipt => "Daily time to receipt (median and 90th percentile)",
            ChartKind::Retry => "Acceptance by attempt number",
            ChartKind::RiskDecile => "Risk score at intake vs observed bounces",
        }
    }

    /// What the chart shows, in words (the image's text alternative).
    pub fn description(self) -> &'static str {
        match self {
            ChartKind::BounceClass => {
                "Line chart: for each day, bounces as a percentage of sent attempts, in total and per class (recipient permanent, sender reputation, transient, content)."
            }
            ChartKind::BounceProvider => {
                "Line chart: for each day, bounces as a percentage of sent attempts per recipient mailbox provider (Gmail, Yahoo, Microsoft, other)."
            }
            ChartKind::BouncePool => {
                "Line chart: for each day, bounces as a percentage of sent attempts per sender pool."
            }
            ChartKind::BounceNetwork => {
                "Line chart: for each day, bounces as a percentage of sent attempts for orders placed from a VPN, a datacenter or Tor, and for all other (residential or unknown) orders."
            }
            ChartKind::Complaint => {
                "Line chart: for each day, spam complaints as a percentage of accepted messages, against the 0.1 % warning and 0.3 % critical thresholds."
            }
            ChartKind::Reach => {
                "Line chart: for the orders that arrived each day, the percentage the receipt reached by any channel and the percentage held after email failed."
            }
            ChartKind::TimeToReceipt => {
                "Line chart: for the orders that arrived each day and were reached, the median and 90th percentile minutes from intake to reach."
            }
            ChartKind::Retry => {
                "Line chart: the percentage of receipt send attempts accepted, by attempt number (1 is the first try, then retries), over the whole range."
            }
            ChartKind::RiskDecile => {
                "Line chart: orders that arrived in the range grouped by the risk score given at intake (0–9, 10–19, … 90–100); for each group, the percentage whose receipt bounced or was deferred at least once, and the percentage held. A useful score rises from left to right."
            }
        }
    }
}

const BOUNCE_THRESHOLDS: [Threshold; 2] = [
    Threshold {
        at: super::BOUNCE_RATE_WARNING * 100.0,
        level: Level::Warning,
        above: true,
    },
    Threshold {
        at: super::BOUNCE_RATE_CRITICAL * 100.0,
        level: Level::Critical,
        above: true,
    },
];
const COMPLAINT_THRESHOLDS: [Threshold; 2] = [
    Threshold {
        at: super::COMPLAINT_RATE_WARNING * 100.0,
        level: Level::Warning,
        above: true,
    },
    Threshold {
        at: super::COMPLAINT_RATE_CRITICAL * 100.0,
        level: Level::Critical,
        above: true,
    },
];

impl ChartKind {
    /// The threshold bands drawn on the chart (in its unit): 5 % / 10 % of
    /// sent on the bounce charts, 0.1 % / 0.3 % of accepted on complaints.
    pub fn thresholds(self) -> &'static [Threshold] {
        match self {
            ChartKind::BounceClass
            | ChartKind::BounceProvider
            | ChartKind::BouncePool
            | ChartKind::BounceNetwork => &BOUNCE_THRESHOLDS,
            ChartKind::Complaint => &COMPLAINT_THRESHOLDS,
            _ => &[],
        }
    }

    /// What a point's sample (`of`) counts, for its hover text and the legend.
    pub fn noun(self) -> &'static str {
        match self {
            ChartKind::Complaint => "accepted",
            ChartKind::Reach | ChartKind::RiskDecile => "orders",
            ChartKind::TimeToReceipt => "reached orders",
            ChartKind::Retry => "attempts",
            _ => "sent",
        }
    }
}

impl ChartData {
    /// The chart as SVG at `layout`, with its bands, hollow small samples
    /// and the description as its text alternative.
    pub fn svg(&self, layout: &Layout) -> String {
        svg::line_chart(
            self,
            layout,
            self.kind.thresholds(),
            self.kind.noun(),
            self.kind.description(),
        )
    }
}

/// One plotted value with what it was computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// The plotted value (percent or minutes); `None` when there was nothing to measure.
    pub value: Option<f64>,
    /// For rates: the numerator and denominator (`count` of `of`). For times:
    /// the reached orders the percentile is taken over (both).
    pub count: i64,
    pub of: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub points: Vec<Point>,
}

/// A chart's data: one label per x position, series with one point each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartData {
    pub kind: ChartKind,
    pub title: String,
    /// Axis titles with units.
    pub x_label: String,
    pub y_label: String,
    /// `%` or `min`.
    pub unit: String,
    /// Name of the x column in the CSV (`date` or `attempt`).
    pub x_name: String,
    pub x: Vec<String>,
    pub series: Vec<Series>,
}

impl ChartData {
    /// Each series over the whole range in words, e.g. "transient 2.1 % (42 of 2,000)".
    pub fn summary(&self) -> String {
        if self
            .series
            .iter()
            .all(|s| s.points.iter().all(|p| p.of == 0))
        {
            return "No data in this range yet.".into();
        }
        let parts: Vec<String> = self
            .series
            .iter()
            .map(|s| {
                if self.unit == "%" {
                    let count: i64 = s.points.iter().map(|p| p.count).sum();
                    let of: i64 = s.points.iter().map(|p| p.of).sum();
                    match pct(count, of) {
                        Some(v) => format!("{} {v:.1} % ({count} of {of})", s.name),
                        None => format!("{}: no data", s.name),
                    }
                } else {
                    let vals: Vec<f64> = s.points.iter().filter_map(|p| p.value).collect();
                    match vals.iter().cloned().reduce(f64::max) {
                        Some(max) => format!("{} up to {max:.0} min on a day", s.name),
                        None => format!("{}: no data", s.name),
                    }
                }
            })
            .collect();
        format!("Over the range: {}.", parts.join("; "))
    }
}

fn pct(count: i64, of: i64) -> Option<f64> {
    (of > 0).then(|| 100.0 * count as f64 / of as f64)
}

/// A percentage point: `count` of `of`.
pub fn rate_point(count: i64, of: i64) -> Point {
    Point {
        value: pct(count, of),
        count,
        of,
    }
}

/// Human names for the class and provider keys.
pub fn class_label(class: &str) -> &'static str {
    match class {
        "recipient_permanent" => "recipient permanent",
        "sender_reputation" => "sender reputation",
        "transient" => "transient",
        "content" => "content",
        _ => "other",
    }
}

pub use crate::provider::label as provider_label;

/// Reads the data of chart `kind` for the days `from_day..=to_day`.
pub async fn build(db: &Db, kind: ChartKind, from_day: i64, to_day: i64) -> Result<ChartData> {
    let days: Vec<i64> = (from_day..=to_day).collect();
    let x: Vec<String> = days.iter().map(|d| day_text(*d)).collect();
    let daily = |rows: &[(i64, String, Counts)], key: &str| -> Vec<Counts> {
        days.iter()
            .map(|d| {
                rows.iter()
                    .find(|(rd, k, _)| rd == d && k == key)
                    .map(|(_, _, c)| c.clone())
                    .unwrap_or_default()
            })
            .collect()
    };
    let rate_chart = |series: Vec<Series>| ChartData {
        kind,
        title: kind.title().into(),
        x_label: "Day (UTC)".into(),
        y_label: "Bounces (% of sent)".into(),
        unit: "%".into(),
        x_name: "date".into(),
        x: x.clone(),
        series,
    };
    Ok(match kind {
        ChartKind::BounceClass => {
            let per_day = daily(&by_day(db, from_day, to_day, Group::Day).await?, "");
            let mut series = vec![Series {
                name: "all classes".into(),
                points: per_day
                    .iter()
                    .map(|c| rate_point(c.bounces(), c.sent))
                    .collect(),
            }];
            for (i, class) in BOUNCE_CLASSES.iter().enumerate() {
                series.push(Series {
                    name: class_label(class).into(),
                    points: per_day
                        .iter()
                        .map(|c| rate_point(c.bounced[i], c.sent))
                        .collect(),
                });
            }
            rate_chart(series)
        }
        ChartKind::BounceProvider => {
            let rows = by_day(db, from_day, to_day, Group::DayProvider).await?;
            rate_chart(
                PROVIDERS
                    .iter()
                    .map(|p| Series {
                        name: provider_label(p).into(),
                        points: daily(&rows, p)
                            .iter()
                            .map(|c| rate_point(c.bounces(), c.sent))
                            .collect(),
                    })
                    .collect(),
            )
        }
        ChartKind::BouncePool => {
            let rows = by_day(db, from_day, to_day, Group::DayPool).await?;
            let pools = crate::delivery::pools::list(db).await?;
            rate_chart(
                pools
                    .iter()
                    .map(|p| Series {
                        name: p.name.clone(),
                        points: daily(&rows, &p.id.to_string())
                            .iter()
                            .map(|c| rate_point(c.bounces(), c.sent))
                            .collect(),
                    })
                    .collect(),
            )
        }
        ChartKind::BounceNetwork => {
            let rows = by_day(db, from_day, to_day, Group::DayNetwork).await?;
            rate_chart(
                crate::risk::NetworkKind::ALL
                    .iter()
                    .map(|n| Series {
                        name: n.label().into(),
                        points: daily(&rows, n.as_str())
                            .iter()
                            .map(|c| rate_point(c.bounces(), c.sent))
                            .collect(),
                    })
                    .collect(),
            )
        }
        ChartKind::Complaint => {
            let per_day = daily(&by_day(db, from_day, to_day, Group::Day).await?, "");
            ChartData {
                y_label: "Complaints (% of accepted)".into(),
                series: vec![Series {
                    name: "complaints".into(),
                    points: per_day
                        .iter()
                        .map(|c| rate_point(c.complaints, c.accepted))
                        .collect(),
                }],
                ..rate_chart(vec![])
            }
        }
        ChartKind::Reach => {
            let per_day = daily(&by_day(db, from_day, to_day, Group::Day).await?, "");
            ChartData {
                y_label: "Orders (% of orders that arrived that day)".into(),
                series: vec![
                    Series {
                        name: "reached".into(),
                        points: per_day
                            .iter()
                            .map(|c| rate_point(c.reached, c.orders))
                            .collect(),
                    },
                    Series {
                        name: "held".into(),
                        points: per_day
                            .iter()
                            .map(|c| rate_point(c.held, c.orders))
                            .collect(),
                    },
                ],
                ..rate_chart(vec![])
            }
        }
        ChartKind::TimeToReceipt => {
            let per_day = daily(&by_day(db, from_day, to_day, Group::Day).await?, "");
            let quantile = |q: f64| -> Vec<Point> {
                per_day
                    .iter()
                    .map(|c| Point {
                        value: c.ttr_quantile(q).map(|t| t.minutes),
                        count: c.reached,
                        of: c.reached,
                    })
                    .collect()
            };
            ChartData {
                y_label: "Time from intake to reach (minutes)".into(),
                unit: "min".into(),
                series: vec![
                    Series {
                        name: "median".into(),
                        points: quantile(0.5),
                    },
                    Series {
                        name: "90th percentile".into(),
                        points: quantile(0.9),
                    },
                ],
                ..rate_chart(vec![])
            }
        }
        ChartKind::Retry => {
            let rows = retries(db, from_day, to_day).await?;
            ChartData {
                kind,
                title: kind.title().into(),
                x_label: "Attempt number (1 = first try)".into(),
                y_label: "Accepted (% of attempts)".into(),
                unit: "%".into(),
                x_name: "attempt".into(),
                x: rows.iter().map(|(n, _, _)| n.to_string()).collect(),
                series: vec![Series {
                    name: "accepted".into(),
                    points: rows
                        .iter()
                        .map(|(_, sent, accepted)| rate_point(*accepted, *sent))
                        .collect(),
                }],
            }
        }
        ChartKind::RiskDecile => {
            let deciles =
                crate::risk::calibration::deciles_of_days(db, from_day, to_day + 1).await?;
            ChartData {
                kind,
                title: kind.title().into(),
                x_label: "Risk score at intake".into(),
                y_label: "Orders (% of the score group)".into(),
                unit: "%".into(),
                x_name: "score".into(),
                x: deciles.iter().map(|d| d.range()).collect(),
                series: vec![
                    Series {
                        name: "bounced or deferred".into(),
                        points: deciles
                            .iter()
                            .map(|d| rate_point(d.bounced, d.orders))
                            .collect(),
                    },
                    Series {
                        name: "held".into(),
                        points: deciles
                            .iter()
                            .map(|d| rate_point(d.held, d.orders))
                            .collect(),
                    },
                ],
            }
        }
    })
}
