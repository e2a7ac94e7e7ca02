use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::status::ErrorNotice;
use crate::server_fns::webhooks::{get_webhook_event, list_esp_events, list_webhook_events};

/// A webhook event's state as a labelled badge (text, not colour alone).
#[component]
fn EventStateBadge(#[prop(into)] state: String) -> impl IntoView {
    let (class, label) = match state.as_str() {
        "delivered" => ("badge state-accepted", "Delivered".to_string()),
        "failed" => ("badge state-held", "Failed".to_string()),
        "pending" => ("badge state-retry_scheduled", "Pending".to_string()),
        other => ("badge", other.to_string()),
    };
    view! { <span class=class>{label}</span> }
}

/// Signed events pushed to the shop and every delivery try. Admins only.
/// Reading works with JavaScript off: the filter is a GET form, the rest links.
#[component]
pub fn AdminWebhooksPage() -> impl IntoView {
    let query = use_query_map();
    let state_filter = move || query.read().get("state").filter(|s| !s.is_empty());
    let before = move || {
        query
            .read()
            .get("before")
            .and_then(|b| b.parse::<i64>().ok())
    };
    let selected = move || query.read().get("id").and_then(|v| v.parse::<i64>().ok());
    let page = crate::resource::resource(
        move || (state_filter(), before()),
        |(s, b)| list_webhook_events(s, b),
    );
    let detail = crate::resource::resource(selected, |id| async move {
        match id {
            Some(id) => get_webhook_event(id).await.map(Some),
            None => Ok(None),
        }
    });
    let current = move || state_filter().unwrap_or_default();
    view! {
        <Title text="Shop webhooks · Rebound"/>
        <h1>"Shop webhooks"</h1>
        <p class="muted">"Events Rebound pushes to the shop, signed with "<code>"Rebound-Signature"</code>
            ". Failed tries are retried after 30 s, doubling up to 1 h, until the configured number of attempts."</p>
        <form method="get" action="/admin/webhooks" class="inline" role="search">
            <label for="wh-state">"State"</label>
            <select id="wh-state" name="state">
                {["", "pending", "delivered", "failed"].into_iter().map(|s| {
                    let label = if s.is_empty() { "All" } else { s };
                    view! { <option value=s selected=move || current() == s>{label}</option> }
                }).collect_view()}
            </select>
            <button type="submit">"Show"</button>
        </form>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(Some(d)) => view! {
                        <section class="card" aria-labelledby="event-h">
                            <h2 id="event-h">{format!("Event {} · {}", d.row.id, d.row.event_type)}</h2>
                            <dl class="facts">
                                <dt>"State"</dt><dd><EventStateBadge state=d.row.state.clone()/></dd>
                                <dt>"Created"</dt><dd>{d.row.created_at.clone()}</dd>
                                <dt>"Tries"</dt><dd>{d.row.attempts}</dd>
                                {d.row.next_attempt_at.clone().map(|n| view! { <dt>"Next try"</dt><dd>{n}</dd> })}
                                {d.row.delivered_at.clone().map(|n| view! { <dt>"Delivered"</dt><dd>{n}</dd> })}
                            </dl>
                            <h3>"Body"</h3>
                            <pre class="mail-text">{d.body.clone()}</pre>
                            <h3>"Delivery log"</h3>
                            {if d.deliveries.is_empty() {
                                view! { <p class="muted">"Not tried yet."</p> }.into_any()
                            } else {
                                view! {
                                    <div class="table-wrap">
                                        <table>
                                            <caption class="sr-only">"Delivery tries"</caption>
                                            <thead><tr>
                                                <th scope="col">"Try"</th><th scope="col">"When"</th>
                                                <th scope="col">"HTTP status"</th><th scope="col">"Took"</th>
                                                <th scope="col">"Error"</th>
                                            </tr></thead>
                                            <tbody>
                                                {d.deliveries.clone().into_iter().map(|t| view! {
                                                    <tr>
                                                        <td>{t.attempt}</td>
                                                        <td class="nowrap">{t.at}</td>
                                                        <td>{t.status_code.map(|c| c.to_string()).unwrap_or_else(|| "no answer".into())}</td>
                                                        <td class="nowrap">{format!("{} ms", t.duration_ms)}</td>
                                                        <td>{t.error.unwrap_or_default()}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                }.into_any()
                            }}
                        </section>
                    }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => {
                        let filter = state_filter().unwrap_or_default();
                        let target = match &p.url {
                            Some(u) => view! { <p>"Events are sent to "<code>{u.clone()}</code>"."</p> }.into_any(),
                            None => view! {
                                <p class="notice warn">"No "<code>"shop_webhook.url"</code>
                                    " is configured: events are stored and stay pending until one is set."</p>
                            }.into_any(),
                        };
                        let list = if p.rows.is_empty() {
                            view! { <p class="muted">"No events."</p> }.into_any()
                        } else {
                            let f = filter.clone();
                            view! {
                                <div class="table-wrap">
                                    <table>
                                        <caption class="sr-only">"Shop webhook events"</caption>
                                        <thead><tr>
                                            <th scope="col">"Event"</th><th scope="col">"Type"</th>
                                            <th scope="col">"Created"</th><th scope="col">"State"</th>
                                            <th scope="col">"Tries"</th><th scope="col">"Last error"</th>
                                        </tr></thead>
                                        <tbody>
                                            {p.rows.into_iter().map(|r| {
                                                let href = if f.is_empty() {
                                                    format!("/admin/webhooks?id={}", r.id)
                                                } else {
                                                    format!("/admin/webhooks?state={}&id={}", f, r.id)
                                                };
                                                view! {
                                                    <tr>
                                                        <td><a href=href>{format!("#{}", r.id)}</a></td>
                                                        <td><code>{r.event_type}</code></td>
                                                        <td class="nowrap">{r.created_at}</td>
                                                        <td><EventStateBadge state=r.state/></td>
                                                        <td>{r.attempts}</td>
                                                        <td>{r.last_error.unwrap_or_default()}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any()
                        };
                        let older = p.next_before.map(|b| {
                            let href = if filter.is_empty() {
                                format!("/admin/webhooks?before={b}")
                            } else {
                                format!("/admin/webhooks?state={filter}&before={b}")
                            };
                            view! { <p><a href=href>"Older events →"</a></p> }
                        });
                        view! { {target} {list} {older} }.into_any()
                    }
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>
        <EspWebhookHealthSection/>
    }
}

/// The ESP webhooks' side: event kinds a provider posted that Rebound does not know (answered
/// 200 so the provider keeps the endpoint, counted here so they are not missed) and refused
/// requests. See docs/webhooks.md for each provider's setup.
#[component]
fn EspWebhookHealthSection() -> impl IntoView {
    let health = crate::resource::resource(|| (), |_| list_esp_events());
    view! {
        <section aria-labelledby="esp-h">
            <h2 id="esp-h">"ESP webhooks"</h2>
            <p class="muted">"Bounce, complaint and delivery events posted by email providers to "
                <code>"/api/v1/webhooks/{provider}"</code>"."</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match health.await {
                        Ok(h) => {
                            let unknown = if h.unknown.is_empty() {
                                view! { <p class="muted">"No unknown event kinds."</p> }.into_any()
                            } else {
                                view! {
                                    <div class="table-wrap">
                                        <table>
                                            <caption>"Event kinds Rebound does not know (accepted and counted)"</caption>
                                            <thead><tr>
                                                <th scope="col">"Provider"</th><th scope="col">"Kind"</th>
                                                <th scope="col">"Seen"</th><th scope="col">"First"</th>
                                                <th scope="col">"Last"</th>
                                            </tr></thead>
                                            <tbody>
                                                {h.unknown.into_iter().map(|u| view! {
                                                    <tr>
                                                        <td>{u.provider}</td><td><code>{u.kind}</code></td>
                                                        <td>{u.seen}</td><td class="nowrap">{u.first_at}</td>
                                                        <td class="nowrap">{u.last_at}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                }.into_any()
                            };
                            let refused = if h.rejections.is_empty() {
                                view! { <p class="muted">"No refused requests."</p> }.into_any()
                            } else {
                                view! {
                                    <div class="table-wrap">
                                        <table>
                                            <caption>"Refused requests (bad or missing authentication)"</caption>
                                            <thead><tr>
                                                <th scope="col">"Provider"</th><th scope="col">"Reason"</th>
                                                <th scope="col">"Refused"</th><th scope="col">"Last"</th>
                                            </tr></thead>
                                            <tbody>
                                                {h.rejections.into_iter().map(|r| view! {
                                                    <tr>
                                                        <td>{r.provider}</td><td><code>{r.reason}</code></td>
                                                        <td>{r.rejected}</td><td class="nowrap">{r.last_at}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                }.into_any()
                            };
                            view! { {unknown} {refused} }.into_any()
                        }
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
