//! `GET /charts/{name}.svg?days=N` and `GET /charts/{name}.csv?days=N` (or
//! `?from=YYYY-MM-DD&to=YYYY-MM-DD`; a bad range is a 400 saying why): the
//! trend charts, drawn on the server with plotters, and their numbers. Managers
//! and admins (checked against the database like every server function);
//! signed-out browsers are sent to the sign-in page by the gate first.
//!
//! The Trends page embeds each SVG with `<img>`, so a chart is sent once, not
//! again in the hydration data. Every label is escaped by plotters' SVG
//! backend (`<`, `>`, `&`, quotes), tested below with a pool named
//! `<script>`. CSV cells a spreadsheet would read as a formula (starting with
//! `=`, `+`, `-`, `@`, tab or CR) are prefixed with `'`.

use app::ssr::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use engine::accounts::Role;
use engine::stats::charts::{self, ChartData, ChartKind};
use plotters::prelude::*;
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
        match svg(&data) {
            Ok(body) => (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("image/svg+xml"),
                    ),
                    private,
                ],
                body,
            )
                .into_response(),
            Err(e) => internal(e),
        }
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

/// Colour-blind-safe (Okabe–Ito); the legend names every line as well.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];

/// The x label at an integer position (`01-15` for a date), else nothing.
fn x_label(data: &ChartData, v: f64) -> String {
    if (v - v.round()).abs() > 1e-6 || v < 0.0 {
        return String::new();
    }
    let label = data
        .x
        .get(v.round() as usize)
        .map(String::as_str)
        .unwrap_or("");
    if data.x_name == "date" {
        label.get(5..).unwrap_or(label).to_string()
    } else {
        label.to_string()
    }
}

/// Draws a line chart: title, axes with their units, a legend; a gap where a
/// day had nothing to measure; a dot on every value.
pub fn svg(data: &ChartData) -> Result<String, String> {
    let mut out = String::new();
    {
        let e = |e: DrawingAreaErrorKind<_>| e.to_string();
        let root = SVGBackend::with_string(&mut out, (800, 400)).into_drawing_area();
        root.fill(&WHITE).map_err(e)?;
        let n = data.x.len();
        let y_max = data
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|p| p.value))
            .fold(0.0_f64, f64::max);
        let y_top = if data.unit == "%" {
            (y_max * 1.15).clamp(5.0, 100.0)
        } else {
            (y_max * 1.15).max(10.0)
        };
        let x_top = (n as f64 - 1.0).max(1.0);
        let mut chart = ChartBuilder::on(&root)
            .caption(&data.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.2_f64..x_top + 0.2, 0.0_f64..y_top)
            .map_err(e)?;
        let unit = data.unit.clone();
        chart
            .configure_mesh()
            .x_desc(data.x_label.as_str())
            .y_desc(data.y_label.as_str())
            .x_labels(n.clamp(2, 10))
            .x_label_formatter(&|v| x_label(data, *v))
            .y_label_formatter(&|v| {
                if unit == "%" {
                    format!("{v:.0} %")
                } else {
                    format!("{v:.0} min")
                }
            })
            .light_line_style(RGBColor(236, 239, 243))
            .draw()
            .map_err(e)?;
        for (i, s) in data.series.iter().enumerate() {
            let style = PALETTE[i % PALETTE.len()].stroke_width(2);
            let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for (x, p) in s.points.iter().enumerate() {
                match (p.value, segments.last_mut()) {
                    (Some(v), Some(seg)) => seg.push((x as f64, v)),
                    (Some(v), None) => segments.push(vec![(x as f64, v)]),
                    (None, _) => segments.push(Vec::new()),
                }
            }
            segments.retain(|seg| !seg.is_empty());
            let mut labelled = false;
            for seg in &segments {
                let drawn = chart
                    .draw_series(LineSeries::new(seg.clone(), style))
                    .map_err(e)?;
                if !labelled {
                    drawn
                        .label(s.name.as_str())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
                    labelled = true;
                }
                chart
                    .draw_series(
                        seg.iter()
                            .map(|&(x, y)| Circle::new((x, y), 3, style.filled())),
                    )
                    .map_err(e)?;
            }
            if !labelled {
                // No data: still in the legend, so every series is named.
                chart
                    .draw_series(LineSeries::new(Vec::<(f64, f64)>::new(), style))
                    .map_err(e)?
                    .label(format!("{} (no data)", s.name))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(154, 164, 178))
            .draw()
            .map_err(e)?;
        root.present().map_err(e)?;
    }
    Ok(out)
}

/// A cell a spreadsheet would run as a formula gets a leading `'`.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// One row per x and series: `date,series,percent,count,of` (or `minutes`;
/// `attempt` for the retry chart). `count` of `of` is what a rate was computed
/// from; an empty value means nothing to measure that day.
pub fn csv(data: &ChartData) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let value_name = if data.unit == "%" {
        "percent"
    } else {
        "minutes"
    };
    w.write_record([data.x_name.as_str(), "series", value_name, "count", "of"])
        .map_err(|e| e.to_string())?;
    for (i, x) in data.x.iter().enumerate() {
        for s in &data.series {
            let Some(p) = s.points.get(i) else { continue };
            let value = match p.value {
                Some(v) if data.unit == "%" => format!("{v:.2}"),
                Some(v) => format!("{v:.1}"),
                None => String::new(),
            };
            w.write_record([
                cell(x),
                cell(&s.name),
                value,
                p.count.to_string(),
                p.of.to_string(),
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
        let out = svg(&data("<script>alert('x')</script> & co")).expect("svg");
        assert!(out.starts_with("<svg"), "{out}");
        assert!(out.contains("Daily bounce rate by sender pool"));
        assert!(out.contains("Day (UTC)") && out.contains("Bounces (% of sent)"));
        assert!(out.contains("01-15") && out.contains("10 %"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
        assert!(!out.contains("<script"), "raw tag in {out}");
        assert!(out.contains("&amp; co"));
        assert!(out.contains("quiet (no data)"));
        // A gap on the day without data: two separate line pieces (polylines).
        assert!(out.matches("<polyline").count() >= 2, "{out}");
    }

    #[test]
    fn csv_rows_per_day_and_series_with_formula_guard() {
        let out = csv(&data("=HYPERLINK(\"x\")")).expect("csv");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "date,series,percent,count,of");
        assert_eq!(lines[1], "2027-01-15,\"'=HYPERLINK(\"\"x\"\")\",12.50,1,8");
        assert_eq!(lines[2], "2027-01-15,quiet,,0,0");
        assert_eq!(lines[3], "2027-01-16,\"'=HYPERLINK(\"\"x\"\")\",,0,0");
        assert_eq!(lines.len(), 7);
    }
}
