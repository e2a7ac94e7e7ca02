use codee::{Decoder, Encoder};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::status::ErrorNotice;
use crate::error::AppError;
use crate::server_fns::stats::{TREND_RANGES, stats_trends, trend_days};
use crate::types::TrendsView;

type Trends = Result<TrendsView, AppError>;

/// The Trends data as it reaches the hydrating browser: without the drawings.
/// The server's HTML already has them, and hydration leaves an `inner_html`
/// alone (tachys sets it only when rendering in the browser), so each chart
/// is sent once. A range chosen later in the browser fetches them whole,
/// through the server function.
struct WithoutDrawings;

impl Encoder<Trends> for WithoutDrawings {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &Trends) -> Result<String, serde_json::Error> {
        let mut val = val.clone();
        if let Ok(t) = &mut val {
            for c in &mut t.charts {
                c.svg_wide.clear();
                c.svg_narrow.clear();
            }
        }
        serde_json::to_string(&val)
    }
}

impl Decoder<Trends> for WithoutDrawings {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<Trends, serde_json::Error> {
        serde_json::from_slice(val.as_bytes())
    }
}

/// Trend charts (managers): drawn on the server as SVG, inline so a point's
/// sample size shows on hover, one drawing for desktop and one for phones;
/// each with its numbers in words and a CSV. The range (a preset or two
/// dates) is a GET form, so it works with JavaScript off and a range can be
/// linked.
#[component]
pub fn TrendsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).filter(|v| !v.trim().is_empty());
    let days = move || trend_days(query.read().get("days").and_then(|d| d.parse().ok()));
    let trends: Resource<Trends, WithoutDrawings> = Resource::new_with_options(
        move || (days(), param("from"), param("to")),
        |(d, from, to)| stats_trends(Some(d), from, to),
        false,
    );
    view! {
        <Title text="Trends · Rebound"/>
        <h1>"Trends"</h1>
        <form method="get" action="/trends" class="inline trend-range">
            <label for="trend-days">"Range"</label>
            <select id="trend-days" name="days">
                {TREND_RANGES.into_iter().map(|d| view! {
                    <option value=d.to_string() selected=move || days() == d>{format!("Last {d} days")}</option>
                }).collect_view()}
            </select>
            <label for="trend-from">"or from"</label>
            <input type="date" id="trend-from" name="from" value=move || param("from").unwrap_or_default()
                aria-describedby="trend-custom-help"/>
            <label for="trend-to">"to"</label>
            <input type="date" id="trend-to" name="to" value=move || param("to").unwrap_or_default()
                aria-describedby="trend-custom-help"/>
            <button type="submit">"Show"</button>
            <p id="trend-custom-help" class="muted">"Dates (UTC, up to a year) override the preset; leave them empty to use it."</p>
        </form>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match trends.await {
                    Ok(t) => {
                        let range = if t.custom {
                            format!("from={}&to={}", t.from, t.to)
                        } else {
                            format!("days={}", t.days)
                        };
                        view! {
                        <p class="muted">{format!("{} to {} (UTC days). Hover a point for what it was measured on; a hollow grey point was measured on fewer than 20 and is not rated. Each chart's numbers can be downloaded as CSV.", t.from, t.to)}</p>
                        {t.charts.into_iter().map(|c| {
                            let heading = format!("chart-{}", c.name);
                            let labelled_by = heading.clone();
                            let csv = format!("/charts/{}.csv?{range}", c.name);
                            view! {
                                <section class="card chart" aria-labelledby=labelled_by data-chart=c.name.clone()>
                                    <h2 id=heading>{c.title.clone()}</h2>
                                    <figure>
                                        <div class="chart-draw wide" inner_html=c.svg_wide></div>
                                        <div class="chart-draw narrow" inner_html=c.svg_narrow></div>
                                        <figcaption>{c.summary.clone()}" "
                                            <a href=csv download="">"Download CSV"<span class="sr-only">{format!(" of {}", c.title)}</span></a>
                                        </figcaption>
                                    </figure>
                                </section>
                            }
                        }).collect_view()}
                    }.into_any()
                    }
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
