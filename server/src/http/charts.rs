//! `GET /charts/{name}.svg?days=N` and `GET /charts/{name}.csv?days=N` (or
//! `?from=YYYY-MM-DD&to=YYYY-MM-DD`; a bad range is a 400 saying why): the
//! trend charts as standalone files (drawn by `engine::stats::svg`, the same
//! drawing the Trends page shows inline) and their numbers. Managers and
//! admins (checked against the database like every server function);
//! signed-out browsers are sent to the sign-in page by the gate first.
//!
//! Every label is escaped (`<`, `>`, `&`, quotes), tested below with a pool
//! named `<script>`. CSV cells a spreadsheet would read as a formula (starting
//! with `=`, `+`, `-`, `@`, tab or CR) are prefixed with `'`.

use app::ssr::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use engine::accounts::Role;
use engine::stats::charts::{self, ChartData, ChartKind};
use engine::stats::svg::{Layout, WIDE};
use serde::Deserialize;
use tower_sessions::Session;

pub const PATH: &str = "/charts/{file}";

/// A preset (`days`) or custom (`from`, `to`: `YYYY-MM-DD`) range, as the
/// Trends page links it.
#[derive(Debug, Deserialize)]
pub struct Range {
    days: Option<i64>,
    from: Option<String>,
    to: Option<String>,
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "chart request failed");
    plain(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.")
}

pub async fn chart(
    State(st): State<AppState>,
    session: Session,
    Path(file): Path<String>,
    Query(range): Query<Range>,
) -> Response {
    if let Err(refused) = super::staff::require(&st.db, &session, &[Role::Manager]).await {
        return refused.into_response();
    }
    let Some((name, ext)) = file.rsplit_once('.') else {
        return plain(StatusCode::NOT_FOUND, "No such chart.");
    };
    let (Some(kind), true) = (ChartKind::parse(name), matches!(ext, "svg" | "csv")) else {
        return plain(StatusCode::NOT_FOUND, "No such chart.");
    };
    let today = engine::stats::day_of(st.now());
    let range = match app::server_fns::stats::trend_range(
        range.days,
        range.from.as_deref(),
        range.to.as_deref(),
        today,
    ) {
        Ok(r) => r,
        Err(why) => {
            return (
                StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                why,
            )
                .into_response();
        }
    };
    let data = match charts::build(&st.db, kind, range.from, range.to).await {
        Ok(d) => d,
        Err(e) => return internal(e),
    };
    let private = (
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if ext == "svg" {
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("image/svg+xml"),
                ),
                private,
            ],
            data.svg(&STANDALONE),
        )
            .into_response()
    } else {
        let span = match range.preset {
            Some(days) => format!("{days}d"),
            None => format!(
                "{}_{}",
                engine::stats::day_text(range.from),
                engine::stats::day_text(range.to)
            ),
        };
        let disposition = HeaderValue::from_str(&format!(
            "attachment; filename=\"rebound-{}-{span}.csv\"",
            kind.name()
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
        match csv(&data) {
            Ok(body) => (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/csv; charset=utf-8"),
                    ),
                    (header::CONTENT_DISPOSITION, disposition),
                    private,
                ],
                body,
            )
                .into_response(),
            Err(e) => internal(e),
        }
    }
}

/// A chart as a file of its own: the desktop drawing with its title on top.
const STANDALONE: Layout = Layout {
    caption: true,
    ..WIDE
};

/// A cell a spreadsheet would run as a formula gets a leading `'`.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// One row per x and series: `date,series,percent,count,of,rated` (or
/// `minutes`; `attempt` for the retry chart). `count` of `of` is what a rate
/// was computed from (`of` is the sample size); `rated` is `no` when `of` is
/// under `engine::stats::MIN_SAMPLE` (the chart draws it hollow and no level
/// is given); an empty value means nothing to measure that day.
pub fn csv(data: &ChartData) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let value_name = if data.unit == "%" {
        "percent"
    } else {
        "minutes"
    };
    w.write_record([
        data.x_name.as_str(),
        "series",
        value_name,
        "count",
        "of",
        "rated",
    ])
    .map_err(|e| e.to_string())?;
    for (i, x) in data.x.iter().enumerate() {
        for s in &data.series {
            let Some(p) = s.points.get(i) else { continue };
            let value = match p.value {
                Some(v) if data.unit == "%" => format!("{v:.2}"),
                Some(v) => format!("{v:.1}"),
                None => String::new(),
            };
            let rated = match p.value {
                Some(_) if engine::stats::rated(p.of) => "yes",
                Some(_) => "no",
                None => "",
            };
            w.write_record([
                cell(x),
                cell(&s.name),
                value,
                p.count.to_string(),
                p.of.to_string(),
                rated.to_string(),
            ])
            .map_err(|e| e.to_string())?;
        }
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::stats::charts::{Point, Series};

    fn data(name: &str) -> ChartData {
        ChartData {
            kind: ChartKind::BouncePool,
            title: "Daily bounce rate by sender pool".into(),
            x_label: "Day (UTC)".into(),
            y_label: "Bounces (% of sent)".into(),
            unit: "%".into(),
            x_name: "date".into(),
            x: vec![
                "2027-01-15".into(),
                "2027-01-16".into(),
                "2027-01-17".into(),
            ],
            series: vec![
                Series {
                    name: name.into(),
                    points: vec![
                        Point {
                            value: Some(12.5),
                            count: 1,
                            of: 8,
                        },
                        Point {
                            value: None,
                            count: 0,
                            of: 0,
                        },
                        Point {
                            value: Some(0.0),
                            count: 0,
                            of: 3,
                        },
                    ],
                },
                Series {
                    name: "quiet".into(),
                    points: vec![
                        Point {
                            value: None,
                            count: 0,
                            of: 0
                        };
                        3
                    ],
                },
            ],
        }
    }

    #[test]
    fn svg_has_title_axes_legend_and_escapes_every_label() {
        let out = data("<script>alert('x')</script> & co").svg(&STANDALONE);
        assert!(out.starts_with("<svg"), "{out}");
        assert!(out.contains("<title>Daily bounce rate by sender pool</title>"));
        assert!(out.contains("Day (UTC)") && out.contains("Bounces (% of sent)"));
        assert!(out.contains("15 Jan") && out.contains("10 %"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
        assert!(!out.contains("<script"), "raw tag in {out}");
        assert!(out.contains("&amp; co"));
        assert!(out.contains("quiet (no data)"));
        // 1 of 8 and 0 of 3 are too few to rate: hollow, no line.
        assert_eq!(out.matches("class=\"pt unrated\"").count(), 2, "{out}");
        assert!(out.contains("12.5 % (1 of 8 sent), fewer than 20: not rated"));
    }

    #[test]
    fn csv_rows_per_day_and_series_with_formula_guard() {
        let out = csv(&data("=HYPERLINK(\"x\")")).expect("csv");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "date,series,percent,count,of,rated");
        assert_eq!(
            lines[1],
            "2027-01-15,\"'=HYPERLINK(\"\"x\"\")\",12.50,1,8,no"
        );
        assert_eq!(lines[2], "2027-01-15,quiet,,0,0,");
        assert_eq!(lines[3], "2027-01-16,\"'=HYPERLINK(\"\"x\"\")\",,0,0,");
        assert_eq!(lines.len(), 7);
    }
}
