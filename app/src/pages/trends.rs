use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::status::ErrorNotice;
use crate::server_fns::stats::{TREND_RANGES, stats_trends, trend_days};

/// Trend charts (managers): drawn on the server as SVG and embedded as images,
/// so the picture is not sent twice; each with its numbers in words and a CSV.
/// The range (a preset or two dates) is a GET form, so it works with
/// JavaScript off and a range can be linked.
#[component]
pub fn TrendsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).filter(|v| !v.trim().is_empty());
    let days = move || trend_days(query.read().get("days").and_then(|d| d.parse().ok()));
    let trends = crate::resource::resource(
        move || (days(), param("from"), param("to")),
        |(d, from, to)| stats_trends(Some(d), from, to),
    );
    view! {
        <Title text="Trends · Rebound"/>
        <h1>"Trends"</h1>
        <form method="get" action="/trends" class="inline">
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
                        <p class="muted">{format!("{} to {} (UTC days). Each chart's numbers can be downloaded as CSV.", t.from, t.to)}</p>
                        {t.charts.into_iter().map(|c| {
                            let heading = format!("chart-{}", c.name);
                            let labelled_by = heading.clone();
                            let svg = format!("/charts/{}.svg?{range}", c.name);
                            let csv = format!("/charts/{}.csv?{range}", c.name);
                            view! {
                                <section class="card chart" aria-labelledby=labelled_by>
                                    <h2 id=heading>{c.title.clone()}</h2>
                                    <figure>
                                        <img src=svg alt=c.description.clone() width="800" height="400"/>
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
