//! One order: what happens next, the agent's actions for it (with the
//! regenerate confirmation that lists the links it would revoke), the
//! customer, risk, items, every send attempt numbered 1, 2, 3 with its exact
//! SMTP reply, bounces and the timeline, all in words. An unknown order
//! answers 404.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::badge::StateBadge;
use crate::components::status::ErrorNotice;
use crate::pages::held::DoneNotice;
use crate::pages::not_found::NotFoundBody;
use crate::pages::order_actions::{OrderActions, ReachCard, RegenerateConfirm};
use crate::server_fns::orders::get_order;
use crate::server_fns::support::{Done, case_view};

// One `view!` tree (its length is markup): the order's sections in the order
// the page shows them; the actions and the reach card are their own components.
#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let number = move || params.read().get("number").unwrap_or_default();
    let acts = OrderActions::new();
    let order =
        crate::resource::resource(move || (number(), acts.version()), |(n, _)| get_order(n));
    let case = crate::resource::resource(move || (number(), acts.version()), |(n, _)| case_view(n));
    // One notice: the latest action's answer (or, after a plain form post, the
    // one the redirect carried).
    let notice = acts.notice();
    let shown = move || {
        notice
            .get()
            .or_else(|| acts.values().into_iter().flatten().next())
            .or_else(|| {
                query.with(|q| {
                    Done::from_query(q.get("done"), q.get("orders"), q.get("failed")).map(Ok)
                })
            })
    };
    let confirm = move || {
        query.with(|q| q.get("confirm").as_deref() == Some("regenerate"))
            && !matches!(acts.regen.value().get(), Some(Ok(_)))
    };
    view! {
        <Title text=move || format!("Order {} · Rebound", number())/>
        <p><a href="/orders">"← Orders"</a></p>
        <div class="order-notice">{move || shown().map(|r| match r {
            Ok(done) => view! { <DoneNotice done/> }.into_any(),
            Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
        })}</div>
        // "Regenerate link…" opens this (a plain link, so it works without JavaScript).
        {move || confirm().then(|| view! {
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    case.await.ok().map(|c| view! { <RegenerateConfirm c acts/> })
                })}
            </Transition>
        })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let c = case.await;
                match order.await {
                    Err(e) => {
                        if e.status == 404 || e.message.starts_with("There is no order") {
                            view! { <NotFoundBody what=e.message/> }.into_any()
                        } else {
                            view! { <ErrorNotice error=e/> }.into_any()
                        }
                    }
                    Ok(d) => view! {
                        <h1>"Order "{d.order.order_number.clone()}</h1>
                        <p><StateBadge state=d.order.state.clone()/>" "{d.order.state_detail.clone()}</p>
                        {match c {
                            Ok(c) => view! {
                                <p class="next-step" data-testid="next-step"><strong>"What happens next: "</strong>{c.next.clone()}</p>
                                <ReachCard c acts/>
                            }.into_any(),
                            Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        }}
                        <section class="card" aria-labelledby="customer-h">
                            <h2 id="customer-h">"Customer"</h2>
                            <dl class="facts">
                                <dt>"Name"</dt><dd>{d.customer_name.clone()}</dd>
                                <dt>"Email"</dt><dd>{d.order.customer_email.clone()}
                                    " "<span class="detail">{match d.soft_bounces {
                                        0 => "(no soft bounces since the last good delivery)".to_string(),
                                        1 => "(1 soft bounce in a row)".to_string(),
                                        n => format!("({n} soft bounces in a row)"),
                                    }}</span>
                                </dd>
                                <dt>"Phone"</dt><dd>{d.customer_phone.clone().unwrap_or_else(|| "—".into())}</dd>
                                <dt>"Account"</dt><dd>{d.order.account_kind.clone()}</dd>
                                <dt>"Client IP"</dt><dd>{d.client_ip.clone().unwrap_or_else(|| "—".into())}</dd>
                                <dt>"Placed"</dt><dd>{d.order.placed_at.clone()}</dd>
                            </dl>
                        </section>
                        <RiskCard risk=d.risk.clone()/>
                        <h2>"Items"</h2>
                        <div class="table-wrap" tabindex="0" role="region" aria-label="Items">
                            <table>
                                <caption class="sr-only">"Items"</caption>
                                <thead><tr><th scope="col">"Item"</th><th scope="col">"Qty"</th><th scope="col">"Unit"</th><th scope="col">"Line"</th></tr></thead>
                                <tbody>
                                    {d.items.into_iter().map(|(name, q, unit, line)| view! {
                                        <tr><td>{name}</td><td>{q}</td><td class="nowrap">{unit}</td><td class="nowrap">{line}</td></tr>
                                    }).collect_view()}
                                    {d.totals.into_iter().map(|(label, amount)| view! {
                                        <tr class="total"><th scope="row" colspan="3">{label}</th><td class="nowrap">{amount}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <h2>"Send attempts"</h2>
                        {if d.attempts.is_empty() {
                            view! { <p class="muted">"No attempt yet."</p> }.into_any()
                        } else {
                            view! {
                                <div class="table-wrap" tabindex="0" role="region" aria-label="Send attempts">
                                    <table>
                                        <caption class="sr-only">"Send attempts"</caption>
                                        <thead><tr>
                                            <th scope="col">"#"</th><th scope="col">"Sent"</th><th scope="col">"Pool"</th><th scope="col">"Started"</th>
                                            <th scope="col">"Outcome"</th><th scope="col">"SMTP reply"</th><th scope="col">"Reason / class"</th>
                                        </tr></thead>
                                        <tbody>
                                            {d.attempts.into_iter().map(|a| view! {
                                                <tr>
                                                    <td>{a.attempt_no}</td><td>{a.what}</td><td>{a.pool}</td><td class="nowrap">{a.started_at}</td>
                                                    <td>{a.outcome}</td><td><code>{a.smtp}</code></td>
                                                    <td>{if a.reason.is_empty() && a.class.is_empty() { "—".to_string() } else { format!("{} / {}", a.reason, a.class) }}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any()
                        }}
                        {(!d.bounces.is_empty()).then(|| view! {
                            <h2>"Bounces"</h2>
                            {d.bounces.into_iter().map(|b| view! {
                                <section class="card bounce">
                                    <p>
                                        <strong>{b.reason.clone()}</strong>" · "{b.class.clone()}
                                        {if b.hard { " · hard (address suppressed)" } else { "" }}
                                    </p>
                                    <dl class="facts">
                                        <dt>"Received"</dt><dd>{b.received_at}</dd>
                                        <dt>"Source"</dt><dd>{b.source}</dd>
                                        <dt>"Tied by"</dt><dd>{b.matched_by}</dd>
                                        <dt>"Recipient"</dt><dd>{b.recipient}</dd>
                                        <dt>"Status"</dt><dd><code>{b.status}</code></dd>
                                        <dt>"Diagnostic"</dt><dd><code>{b.diagnostic}</code></dd>
                                        <dt>"Rule"</dt><dd><code>{b.rule}</code></dd>
                                    </dl>
                                    {b.raw.map(|raw| view! {
                                        <details><summary>"Raw message"</summary><pre class="mail-text">{raw}</pre></details>
                                    })}
                                </section>
                            }).collect_view()}
                        })}
                        <h2>"Timeline"</h2>
                        <ol class="timeline">
                            {d.timeline.into_iter().map(|e| view! {
                                <li><span class="when">{e.at}</span>" "<strong>{e.kind}</strong>": "{e.detail}</li>
                            }).collect_view()}
                        </ol>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The email-health risk scored at intake and why (each factor's points).
#[component]
fn RiskCard(risk: crate::types::RiskDetail) -> impl IntoView {
    let score = match risk.score {
        Some(s) if risk.high => format!("{s} of 100 — high"),
        Some(s) => format!("{s} of 100"),
        None => "not scored (stored before risk scoring)".into(),
    };
    view! {
        <section class="card" aria-labelledby="risk-h">
            <h2 id="risk-h">"Email-health risk"</h2>
            <dl class="facts">
                <dt>"Score"</dt><dd class=if risk.high { "level-critical" } else { "" }>{score}</dd>
                <dt>"Network"</dt><dd>{risk.network_label.clone()}</dd>
                {risk.country.clone().map(|c| view! { <dt>"IP country"</dt><dd>{c}</dd> })}
                {risk.routed_to.clone().map(|p| view! { <dt>"Routed to"</dt><dd>{format!("pool {p} (best recent acceptance for this recipient provider)")}</dd> })}
                {risk.high.then(|| view! { <dt>"Inline receipt"</dt><dd>"The shop was told to show the receipt on its thank-you page."</dd> })}
                {risk.suggested_email.clone().map(|e| view! { <dt>"Did they mean"</dt><dd><strong>{e}</strong>" (the domain looks like a typo)"</dd> })}
            </dl>
            {if risk.factors.is_empty() {
                view! { <p class="muted">"No risk factors."</p> }.into_any()
            } else {
                view! {
                    <table>
                        <caption class="sr-only">"Risk factors"</caption>
                        <thead><tr><th scope="col">"Factor"</th><th scope="col">"Points"</th></tr></thead>
                        <tbody>
                            {risk.factors.into_iter().map(|(why, points)| view! {
                                <tr><td>{why}</td><td class="num">{format!("+{points}")}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
