//! Charts as SVG text, drawn here once for every place that shows them: the
//! Trends page (inline, so a point's sample size shows on hover through its
//! `<title>`), `/charts/{name}.svg`, and the Overview's sparklines.
//!
//! Every chart follows the same rules:
//! - a value computed from fewer than [`MIN_SAMPLE`] sends (or orders) is a
//!   hollow grey point: it is not joined to the line, does not stretch the
//!   axis (drawn at the top edge when above it; its title has the true value)
//!   and is never rated;
//! - thresholds are shaded bands with a dashed edge, named in words on the
//!   plot and in the legend, not told by colour alone;
//! - the legend sits below the plot, never over the data;
//! - text is at least 12 px at the layout's size ([`WIDE`] is drawn for
//!   desktop widths, [`NARROW`] for phones; the page shows one of them).

use std::fmt::Write;

use super::charts::{ChartData, Point};
use super::{Level, MIN_SAMPLE};

/// A threshold on a chart's value axis, in the chart's unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    pub at: f64,
    pub level: Level,
    /// `true`: values at or above are `level` (bounces); `false`: below (reach).
    pub above: bool,
}

/// The size a chart is drawn at (SVG user units, which the page scales to its
/// width).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub plot_height: f64,
    pub font: f64,
    /// At most this many labels on the x axis.
    pub x_labels: usize,
    /// A `<title>` (hover text) on every point.
    pub point_titles: bool,
    /// The chart's title written at the top (for the standalone `.svg`).
    pub caption: bool,
}

/// Desktop: ~1040 px wide on the Trends page at 1440, so 13 units ≈ 14 px.
pub const WIDE: Layout = Layout {
    width: 960.0,
    plot_height: 300.0,
    font: 13.0,
    x_labels: 10,
    point_titles: true,
    caption: false,
};

/// Phones: ~330 px wide at 390, so 12.5 units ≈ 12 px.
pub const NARROW: Layout = Layout {
    width: 340.0,
    plot_height: 210.0,
    font: 12.5,
    x_labels: 4,
    point_titles: false,
    caption: false,
};

/// Colour-blind-safe (Okabe–Ito); the legend names every line as well.
pub const PALETTE: [&str; 7] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000",
];
const INK: &str = "#1b2430";
const MUTED: &str = "#5a6472";
const GRID: &str = "#eceff3";
const UNRATED: &str = "#8a939f";

fn band_colours(level: Level) -> (&'static str, &'static str) {
    match level {
        Level::Critical => ("#fde8e8", "#a4161a"),
        Level::Warning => ("#fff4d6", "#8a5a00"),
        Level::Ok => ("#e6f4ea", "#1d6b3a"),
    }
}

/// Text for SVG content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether a point was measured on enough to be drawn solid and rated.
pub fn rated(p: &Point, min_sample: i64) -> bool {
    p.value.is_some() && p.of >= min_sample
}

/// A value with its unit: `4.2 %`, `0.12 %`, `35 min`.
pub fn value_text(v: f64, unit: &str) -> String {
    match unit {
        "%" if v != 0.0 && v.abs() < 1.0 => format!("{v:.2} %"),
        "%" => format!("{v:.1} %"),
        "min" => format!("{v:.0} min"),
        "" => format!("{v:.0}"),
        u => format!("{v:.0} {u}"),
    }
}

/// A round step for about `parts` ticks up to `top`.
fn nice_step(top: f64, parts: f64) -> f64 {
    let raw = (top / parts).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * mag >= raw - 1e-12 {
            return m * mag;
        }
    }
    10.0 * mag
}

fn tick_text(v: f64, step: f64, unit: &str) -> String {
    let digits = if step >= 1.0 {
        0
    } else if step >= 0.1 {
        1
    } else {
        2
    };
    match unit {
        "" => format!("{v:.digits$}"),
        u => format!("{v:.digits$} {u}"),
    }
}

/// `2026-11-03` → `3 Nov`; anything else as it is.
fn x_text(x: &str, dates: bool) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if !dates {
        return x.to_string();
    }
    let month = x.get(5..7).and_then(|m| m.parse::<usize>().ok());
    let day = x.get(8..10).and_then(|d| d.parse::<u32>().ok());
    match (month, day) {
        (Some(m), Some(d)) if (1..=12).contains(&m) => format!("{d} {}", MONTHS[m - 1]),
        _ => x.to_string(),
    }
}

/// Rough width of `text` at `font` (system sans-serif averages ~0.56 em).
fn text_width(text: &str, font: f64) -> f64 {
    text.chars().count() as f64 * font * 0.56
}

/// The value axis: 0 up to a round top that holds every rated value and
/// shows each threshold band.
fn y_top(data: &ChartData, thresholds: &[Threshold]) -> (f64, f64) {
    let max = data
        .series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| rated(p, MIN_SAMPLE))
        .filter_map(|p| p.value)
        .fold(0.0_f64, f64::max);
    let band_top = thresholds.iter().map(|t| t.at * 1.3).fold(0.0, f64::max);
    let floor = match data.unit.as_str() {
        "%" if thresholds.is_empty() => 5.0,
        "%" => 0.0,
        _ => 10.0,
    };
    let mut top = (max * 1.12).max(band_top).max(floor);
    if data.unit == "%" && max <= 100.0 {
        top = top.min(100.0);
    }
    let step = nice_step(top, 5.0);
    ((top / step - 1e-9).ceil() * step, step)
}

struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    top: f64,
    n: usize,
}

impl Frame {
    fn x(&self, i: usize) -> f64 {
        let w = (self.x1 - self.x0) / self.n.max(1) as f64;
        self.x0 + (i as f64 + 0.5) * w
    }
    fn y(&self, v: f64) -> f64 {
        let v = v.clamp(0.0, self.top);
        self.y1 - (v / self.top) * (self.y1 - self.y0)
    }
}

/// One legend entry: a line swatch, a band swatch or a hollow point.
enum Swatch<'a> {
    Line(&'a str),
    Band(&'a str, &'a str),
    Hollow,
}

/// Draws the legend in rows below the plot from `y`; returns where it ends.
fn legend(out: &mut String, items: &[(Swatch<'_>, String)], layout: &Layout, y: f64) -> f64 {
    let f = layout.font;
    let row_h = f * 1.7;
    let (mut x, mut y) = (8.0, y);
    out.push_str("<g class=\"legend\">");
    for (swatch, label) in items {
        let w = 24.0 + text_width(label, f) + 18.0;
        if x > 8.0 && x + w > layout.width - 4.0 {
            x = 8.0;
            y += row_h;
        }
        let mid = y - f * 0.35;
        match swatch {
            Swatch::Line(c) => {
                let _ = write!(
                    out,
                    "<line x1=\"{x:.1}\" y1=\"{mid:.1}\" x2=\"{:.1}\" y2=\"{mid:.1}\" stroke=\"{c}\" stroke-width=\"3\"/>",
                    x + 18.0
                );
            }
            Swatch::Band(fill, edge) => {
                let _ = write!(
                    out,
                    "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"18\" height=\"{:.1}\" fill=\"{fill}\" stroke=\"{edge}\" stroke-dasharray=\"3 2\"/>",
                    mid - f * 0.4,
                    f * 0.8
                );
            }
            Swatch::Hollow => {
                let _ = write!(
                    out,
                    "<circle cx=\"{:.1}\" cy=\"{mid:.1}\" r=\"4\" fill=\"#fff\" stroke=\"{UNRATED}\" stroke-width=\"1.5\"/>",
                    x + 9.0
                );
            }
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{y:.1}\" fill=\"{INK}\">{}</text>",
            x + 24.0,
            esc(label)
        );
        x += w;
    }
    out.push_str("</g>");
    y + f * 0.6
}

/// The hover text of a point: `3 Nov · all classes: 4.2 % (3 of 71 sent)`.
fn point_title(data: &ChartData, x: &str, series: &str, p: &Point, noun: &str) -> String {
    let Some(v) = p.value else {
        return String::new();
    };
    let basis = if data.unit == "%" {
        format!("{} of {} {noun}", p.count, p.of)
    } else {
        format!("of {} {noun}", p.of)
    };
    let mut t = format!("{x} · {series}: {} ({basis})", value_text(v, &data.unit));
    if p.of < MIN_SAMPLE {
        let _ = write!(t, ", fewer than {MIN_SAMPLE}: not rated");
    }
    t
}

/// Draws `data` as a line chart at `layout`. `noun` names what a point's
/// sample counts ("sent", "orders"); `label` is the chart's text alternative.
pub fn line_chart(
    data: &ChartData,
    layout: &Layout,
    thresholds: &[Threshold],
    noun: &str,
    label: &str,
) -> String {
    let f = layout.font;
    let (top, step) = y_top(data, thresholds);
    let ticks: Vec<f64> = (0..)
        .map(|i| i as f64 * step)
        .take_while(|v| *v <= top + step * 1e-6)
        .collect();
    let tick_w = ticks
        .iter()
        .map(|v| text_width(&tick_text(*v, step, &data.unit), f))
        .fold(0.0, f64::max);
    let caption_h = if layout.caption { f * 2.4 } else { 0.0 };
    let frame = Frame {
        x0: f * 1.8 + tick_w + 8.0,
        x1: layout.width - 12.0,
        y0: caption_h + f,
        y1: caption_h + f + layout.plot_height,
        top,
        n: data.x.len(),
    };
    let dates = data.x_name == "date";

    let mut body = String::new();
    if layout.caption {
        let _ = write!(
            body,
            "<text x=\"8\" y=\"{:.1}\" font-size=\"{:.1}\" font-weight=\"600\" fill=\"{INK}\">{}</text>",
            f * 1.5,
            f * 1.25,
            esc(&data.title)
        );
    }
    // Threshold bands, under everything else.
    let mut sorted: Vec<Threshold> = thresholds.to_vec();
    sorted.sort_by(|a, b| a.at.total_cmp(&b.at));
    for (i, t) in sorted.iter().enumerate() {
        let upper = sorted.get(i + 1).map(|n| n.at).unwrap_or(top);
        let (fill, _) = band_colours(t.level);
        let (ya, yb) = (frame.y(upper), frame.y(t.at));
        if yb - ya > 0.0 {
            let _ = write!(
                body,
                "<rect x=\"{:.1}\" y=\"{ya:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\"/>",
                frame.x0,
                frame.x1 - frame.x0,
                yb - ya
            );
        }
    }
    // Grid and value axis.
    for v in &ticks {
        let y = frame.y(*v);
        let _ = write!(
            body,
            "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{GRID}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{MUTED}\">{}</text>",
            frame.x0,
            frame.x1,
            frame.x0 - 6.0,
            y + f * 0.35,
            esc(&tick_text(*v, step, &data.unit))
        );
    }
    for t in &sorted {
        let (_, edge) = band_colours(t.level);
        let y = frame.y(t.at);
        let _ = write!(
            body,
            "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{edge}\" stroke-dasharray=\"6 4\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{edge}\" font-weight=\"600\">{}</text>",
            frame.x0,
            frame.x1,
            frame.x1 - 4.0,
            y - 4.0,
            esc(&format!(
                "{} from {}",
                t.level.label().to_lowercase(),
                value_text(t.at, &data.unit)
            ))
        );
    }
    let _ = write!(
        body,
        "<line class=\"x-axis\" x1=\"{x0:.1}\" y1=\"{y1:.1}\" x2=\"{x1:.1}\" y2=\"{y1:.1}\" stroke=\"{MUTED}\"/>\
         <line x1=\"{x0:.1}\" y1=\"{y0:.1}\" x2=\"{x0:.1}\" y2=\"{y1:.1}\" stroke=\"{MUTED}\"/>",
        x0 = frame.x0,
        x1 = frame.x1,
        y0 = frame.y0,
        y1 = frame.y1
    );
    // Category axis: at most `x_labels` labels, evenly spaced.
    let every = frame.n.div_ceil(layout.x_labels.max(1)).max(1);
    for (i, x) in data.x.iter().enumerate() {
        if i % every != 0 {
            continue;
        }
        let _ = write!(
            body,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{MUTED}\">{}</text>",
            frame.x(i),
            frame.y1 + f * 1.35,
            esc(&x_text(x, dates))
        );
    }
    let _ = write!(
        body,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>\
         <text transform=\"translate({:.1} {:.1}) rotate(-90)\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>",
        (frame.x0 + frame.x1) / 2.0,
        frame.y1 + f * 2.8,
        esc(&data.x_label),
        f * 1.0,
        (frame.y0 + frame.y1) / 2.0,
        esc(&data.y_label)
    );
    // The series: lines through rated points, a dot on each, hollow grey
    // points for values measured on too little.
    let mut items: Vec<(Swatch<'_>, String)> = Vec::new();
    let mut any_unrated = false;
    for (si, s) in data.series.iter().enumerate() {
        let colour = PALETTE[si % PALETTE.len()];
        let mut run: Vec<(f64, f64)> = Vec::new();
        let mut lines = String::new();
        let flush = |run: &mut Vec<(f64, f64)>, lines: &mut String| {
            if run.len() > 1 {
                let pts: Vec<String> = run.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
                let _ = write!(
                    lines,
                    "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2.2\"/>",
                    pts.join(" ")
                );
            }
            run.clear();
        };
        let mut dots = String::new();
        for (i, p) in s.points.iter().enumerate() {
            let Some(v) = p.value else {
                flush(&mut run, &mut lines);
                continue;
            };
            let (x, y) = (frame.x(i), frame.y(v));
            let solid = rated(p, MIN_SAMPLE);
            if solid {
                run.push((x, y));
            } else {
                any_unrated = true;
                flush(&mut run, &mut lines);
            }
            let r = if layout.point_titles { 3.5 } else { 2.5 };
            let paint = if solid {
                format!("fill=\"{colour}\"")
            } else {
                format!("fill=\"#fff\" stroke=\"{UNRATED}\" stroke-width=\"1.5\"")
            };
            let class = if solid { "pt" } else { "pt unrated" };
            if layout.point_titles {
                let title = point_title(
                    data,
                    data.x.get(i).map_or("", String::as_str),
                    &s.name,
                    p,
                    noun,
                );
                let _ = write!(
                    dots,
                    "<circle class=\"{class}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r}\" {paint}><title>{}</title></circle>",
                    esc(&title)
                );
            } else {
                let _ = write!(
                    dots,
                    "<circle class=\"{class}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r}\" {paint}/>"
                );
            }
        }
        flush(&mut run, &mut lines);
        body.push_str(&lines);
        body.push_str(&dots);
        let has_data = s.points.iter().any(|p| p.value.is_some());
        let name = if has_data {
            s.name.clone()
        } else {
            format!("{} (no data)", s.name)
        };
        items.push((Swatch::Line(colour), name));
    }
    for t in &sorted {
        let (fill, edge) = band_colours(t.level);
        items.push((
            Swatch::Band(fill, edge),
            format!(
                "{} from {}",
                t.level.label().to_lowercase(),
                value_text(t.at, &data.unit)
            ),
        ));
    }
    if any_unrated {
        items.push((
            Swatch::Hollow,
            format!("fewer than {MIN_SAMPLE} {noun}: not rated"),
        ));
    }
    let height = legend(&mut body, &items, layout, frame.y1 + f * 4.6);
    let mut out = String::with_capacity(body.len() + 400);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w:.0} {h:.0}\" width=\"{w:.0}\" height=\"{h:.0}\" \
         role=\"img\" aria-label=\"{}\" font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif\" font-size=\"{f}\">",
        esc(label),
        w = layout.width,
        h = height.ceil()
    );
    if layout.caption {
        let _ = write!(out, "<title>{}</title>", esc(&data.title));
    }
    let _ = write!(
        out,
        "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>{body}</svg>"
    );
    out
}

/// A 30-day sparkline: the line through rated days, hollow grey points for
/// days measured on fewer than `min_sample`, the first threshold dashed, the
/// last day a larger dot. `label` is its text alternative.
pub fn sparkline(
    points: &[Point],
    min_sample: i64,
    thresholds: &[Threshold],
    label: &str,
) -> String {
    let (w, h, pad) = (160.0_f64, 40.0_f64, 4.0_f64);
    let vals: Vec<f64> = points
        .iter()
        .filter(|p| rated(p, min_sample))
        .filter_map(|p| p.value)
        .collect();
    let first = thresholds.first();
    let above = first.is_none_or(|t| t.above);
    let mut hi = vals.iter().cloned().fold(f64::MIN, f64::max);
    let mut lo = vals.iter().cloned().fold(f64::MAX, f64::min);
    if let Some(t) = first {
        hi = hi.max(t.at);
        lo = lo.min(t.at);
    }
    if vals.is_empty() && first.is_none() {
        (lo, hi) = (0.0, 1.0);
    }
    if above {
        lo = 0.0;
    }
    let span = (hi - lo).max(1e-9);
    let (lo, hi) = if above {
        (lo, hi + span * 0.12)
    } else {
        (lo - span * 0.12, hi + span * 0.06)
    };
    let n = points.len().max(1);
    let x = |i: usize| pad + (i as f64 + 0.5) * (w - 2.0 * pad) / n as f64;
    let y = |v: f64| {
        let v = v.clamp(lo, hi);
        h - pad - (v - lo) / (hi - lo) * (h - 2.0 * pad)
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" \
         class=\"spark\" role=\"img\" aria-label=\"{}\">",
        esc(label)
    );
    if let Some(t) = first {
        let (_, edge) = band_colours(t.level);
        let _ = write!(
            out,
            "<line x1=\"0\" y1=\"{yt:.1}\" x2=\"{w}\" y2=\"{yt:.1}\" stroke=\"{edge}\" stroke-dasharray=\"3 3\" vector-effect=\"non-scaling-stroke\"/>",
            yt = y(t.at)
        );
    }
    let mut run: Vec<String> = Vec::new();
    let mut lines = String::new();
    let mut dots = String::new();
    let flush = |run: &mut Vec<String>, lines: &mut String| {
        if run.len() > 1 {
            let _ = write!(
                lines,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" vector-effect=\"non-scaling-stroke\"/>",
                run.join(" "),
                PALETTE[0]
            );
        }
        run.clear();
    };
    let last = points.iter().rposition(|p| rated(p, min_sample));
    for (i, p) in points.iter().enumerate() {
        let Some(v) = p.value else {
            flush(&mut run, &mut lines);
            continue;
        };
        if rated(p, min_sample) {
            run.push(format!("{:.1},{:.1}", x(i), y(v)));
            if Some(i) == last {
                let _ = write!(
                    dots,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"/>",
                    x(i),
                    y(v),
                    PALETTE[0]
                );
            }
        } else {
            flush(&mut run, &mut lines);
            let _ = write!(
                dots,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2\" fill=\"#fff\" stroke=\"{UNRATED}\"/>",
                x(i),
                y(v)
            );
        }
    }
    flush(&mut run, &mut lines);
    out.push_str(&lines);
    out.push_str(&dots);
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::super::charts::{ChartKind, Series};
    use super::*;

    fn pt(value: Option<f64>, count: i64, of: i64) -> Point {
        Point { value, count, of }
    }

    fn data(name: &str) -> ChartData {
        ChartData {
            kind: ChartKind::BounceClass,
            title: "Daily bounce rate by class".into(),
            x_label: "Day (UTC)".into(),
            y_label: "Bounces (% of sent)".into(),
            unit: "%".into(),
            x_name: "date".into(),
            x: vec![
                "2027-01-15".into(),
                "2027-01-16".into(),
                "2027-01-17".into(),
                "2027-01-18".into(),
            ],
            series: vec![
                Series {
                    name: name.into(),
                    points: vec![
                        pt(Some(4.0), 4, 100),
                        pt(Some(12.0), 3, 25),
                        pt(Some(100.0), 3, 3),
                        pt(Some(2.0), 2, 100),
                    ],
                },
                Series {
                    name: "quiet".into(),
                    points: vec![pt(None, 0, 0); 4],
                },
            ],
        }
    }

    const BOUNCE: [Threshold; 2] = [
        Threshold {
            at: 5.0,
            level: Level::Warning,
            above: true,
        },
        Threshold {
            at: 10.0,
            level: Level::Critical,
            above: true,
        },
    ];

    #[test]
    fn small_samples_are_hollow_and_do_not_stretch_the_axis() {
        let out = line_chart(&data("all classes"), &WIDE, &BOUNCE, "sent", "A chart");
        // 3 of 3 is a hollow point titled with its sample, not a 100 % axis.
        assert!(
            out.contains(">15 Jan<") && out.contains(">18 Jan<"),
            "{out}"
        );
        assert_eq!(out.matches("class=\"pt unrated\"").count(), 1, "{out}");
        assert!(
            out.contains(
                "2027-01-17 · all classes: 100.0 % (3 of 3 sent), fewer than 20: not rated"
            ),
            "{out}"
        );
        assert!(
            out.contains("all classes: 12.0 % (3 of 25 sent)</title>"),
            "{out}"
        );
        assert!(
            !out.contains(">100 %<") && !out.contains(">80 %<"),
            "axis stretched: {out}"
        );
        assert!(out.contains(">15 %<"), "axis to the critical band: {out}");
        // Bands named in words, on the plot and in the legend.
        assert!(out.contains("warning from 5.0 %") && out.contains("critical from 10.0 %"));
        assert!(out.contains("fewer than 20 sent: not rated"));
        assert!(out.contains("quiet (no data)"));
        // The line breaks at the unrated point: one piece before, a lone dot after.
        assert_eq!(out.matches("<polyline").count(), 1, "{out}");
        assert!(out.contains("role=\"img\" aria-label=\"A chart\""));
        assert!(out.contains("font-size=\"13\""));
    }

    #[test]
    fn every_label_is_escaped() {
        let out = line_chart(
            &data("<script>alert('x')</script> & co"),
            &NARROW,
            &[],
            "sent",
            "a \"label\"",
        );
        assert!(!out.contains("<script"), "{out}");
        assert!(out.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"));
        assert!(out.contains("aria-label=\"a &quot;label&quot;\""));
        assert!(!out.contains("<title>"), "no hover text on phones");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_step(13.0, 5.0), 5.0);
        assert_eq!(nice_step(0.39, 5.0), 0.1);
        assert_eq!(nice_step(100.0, 5.0), 20.0);
        assert_eq!(tick_text(0.2, 0.1, "%"), "0.2 %");
        assert_eq!(value_text(0.126, "%"), "0.13 %");
        assert_eq!(value_text(12.0, "%"), "12.0 %");
        assert_eq!(x_text("2026-11-03", true), "3 Nov");
    }

    #[test]
    fn sparkline_marks_small_days_and_the_threshold() {
        let points = vec![
            pt(Some(2.0), 2, 100),
            pt(Some(50.0), 1, 2),
            pt(Some(3.0), 3, 100),
        ];
        let out = sparkline(&points, MIN_SAMPLE, &BOUNCE, "Bounce rate per day");
        assert!(out.contains("aria-label=\"Bounce rate per day\""));
        assert_eq!(out.matches("stroke-dasharray").count(), 1);
        assert_eq!(out.matches("fill=\"#fff\"").count(), 1, "{out}");
        assert_eq!(
            out.matches("<circle").count(),
            2,
            "hollow day and last day: {out}"
        );
    }
}
