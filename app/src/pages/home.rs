use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::ErrorNotice;

use crate::server_fns::auth::current_user;
use crate::server_fns::stats::stats_overview;
use crate::types::{KpiTile, OverviewView, OverviewWindow, RateView, Role};

/// Where staff land after signing in: five tiles a manager reads in seconds
/// (each with its 30-day sparkline and its state in words), the detailed
/// numbers (today, 7 and 30 days) below, and what their role can reach.
#[component]
pub fn HomePage() -> impl IntoView {
    let user = crate::resource::resource(|| (), |_| current_user());
    let overview = crate::resource::resource(|| (), |_| stats_overview());
    view! {
        <Title text="Overview · Rebound"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(u)) => view! {
                        <h1>"Overview"</h1>
                        <p class="muted">"Welcome, "{u.display_name.clone()}". You are signed in as "<strong class="email">{u.email.clone()}</strong>" with the role "
                            <strong>{u.role.label()}</strong>"."</p>
                        {match overview.await {
                            Ok(o) => view! { <Overview o=o role=u.role/> }.into_any(),
                            Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        }}
                        <h2>"What you can do"</h2>
                        <ul class="capabilities">
                            {match u.role {
                                Role::Admin => view! {
                                    <li><a href="/trends">"Read the delivery trends"</a></li>
                                    <li><a href="/orders">"Follow every order's receipt"</a></li>
                                    <li><a href="/pools">"Pause or resume sender pools"</a></li>
                                    <li><a href="/admin/api-keys">"Create API keys for shops"</a></li>
                                    <li><a href="/admin/outbox">"Read captured messages (development)"</a></li>
                                    <li><a href="/admin/users">"Manage staff accounts and roles"</a></li>
                                    <li><a href="/admin/audit">"Read the audit log"</a></li>
                                }.into_any(),
                                Role::Manager => view! {
                                    <li><a href="/trends">"Read the delivery trends and download their data"</a></li>
                                    <li><a href="/orders">"Read orders and their delivery story (contact details masked)"</a></li>
                                    <li><a href="/pools">"See the sender pools"</a></li>
                                }.into_any(),
                                Role::Agent => view! {
                                    <li><a href="/held">"Work the held queue"</a></li>
                                    <li><a href="/orders">"Follow orders and see why a receipt did not arrive"</a></li>
                                }.into_any(),
                            }}
                        </ul>
                    }.into_any(),
                    Ok(None) => view! { <p>"You are signed out. "<a href="/login">"Sign in"</a></p> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// 12345 → "12,345".
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A rate with its level in words and colour; the threshold on hover too.
#[component]
fn Rate(rate: RateView) -> impl IntoView {
    let word = (!rate.level_label.is_empty()).then(|| format!(" · {}", rate.level_label));
    let class = format!("badge level-{}", rate.level);
    let title = (!rate.threshold.is_empty()).then(|| format!("{}: {}", rate.label, rate.threshold));
    view! {
        <span class=class title=title>{rate.value.clone()}{word}</span>
        <span class="detail block">{rate.detail.clone()}</span>
    }
}

/// One headline number: its value, its state in words and colour, what it
/// was measured on, its sparkline and its thresholds.
#[component]
fn Kpi(t: KpiTile) -> impl IntoView {
    view! {
        <li class=format!("kpi kpi-{}", t.level) data-testid=format!("kpi-{}", t.key)>
            <h3 class="kpi-label">{t.label}</h3>
            <p class="kpi-value">{t.value}" "
                <span class=format!("badge level-{}", t.level)>{t.level_label}</span>
            </p>
            <p class="kpi-detail">{t.detail}</p>
            <div class="kpi-spark" inner_html=t.spark_svg></div>
            <p class="kpi-note">{t.spark_note}". "{t.threshold}"."</p>
            {t.link.map(|(href, text)| view! { <a href=href>{text}</a> })}
        </li>
    }
}

#[component]
fn Overview(o: OverviewView, role: Role) -> impl IntoView {
    let show_held_link = role != Role::Manager;
    let w = o.windows.clone();
    let row = move |label: &'static str,
                    hint: &'static str,
                    cell: fn(&OverviewWindow) -> AnyView| {
        let cells = w
            .iter()
            .map(|x| view! { <td>{cell(x)}</td> })
            .collect_view();
        view! {
            <tr>
                <th scope="row">{label}
                    {(!hint.is_empty()).then(|| view! { <span class="detail block">{hint}</span> })}
                </th>
                {cells}
            </tr>
        }
    };
    let classes = o.windows.first().map(|w| w.classes.len()).unwrap_or(0);
    let class_rows = (0..classes)
        .map(|i| {
            let label = o.windows[0].classes[i].label.clone();
            let cells = o
                .windows
                .iter()
                .map(|x| {
                    let r = x.classes[i].clone();
                    view! { <td><Rate rate=r/></td> }
                })
                .collect_view();
            view! { <tr><th scope="row" class="sub">{label}</th>{cells}</tr> }
        })
        .collect_view();
    view! {
        <section aria-labelledby="kpis-h">
            <h2 id="kpis-h">"The last 7 days at a glance"</h2>
            <ul class="kpis">
                {o.kpis.iter().cloned().map(|t| view! { <Kpi t/> }).collect_view()}
            </ul>
        </section>
        <section aria-labelledby="overview-h">
            <h2 id="overview-h">"Details"</h2>
            <p class="muted">"Days are UTC. The numbers come from rollups refreshed once a minute"
                {o.refreshed.clone().map(|r| format!(" (last: {r})"))}
                ". A rate measured on fewer than 20 is shown but not rated."</p>
            {o.demo_data.then(|| view! {
                <p class="notice warn">"Includes demo orders (generated history); "
                    <code>"rebound demo clear"</code>" removes them."</p>
            })}
            {(!o.pool_alerts.is_empty()).then(|| view! {
                <div class="notice warn" role="alert" data-testid="pool-alerts">
                    <strong>"Sender pool alerts"</strong>
                    <ul>{o.pool_alerts.iter().map(|a| view! { <li>{a.clone()}</li> }).collect_view()}</ul>
                    {(role != Role::Agent).then(|| view! { <a href="/pools">"Open the sender pools"</a> })}
                </div>
            })}
            <p class="held-now" data-testid="held-now">
                <strong>{format!("Orders held, not yet reached: {}", o.held_now)}</strong>
                {o.oldest_held.clone().map(|h| format!(" · oldest {h}"))}
                <span class="detail block">"Email failed for these orders; most wait for a fallback (a link by SMS, a masked re-send). Only the cases needing an agent are in the held queue."</span>
                {(show_held_link && o.held_now > 0).then(|| view! { <a href="/held">"Open the held queue"</a> })}
            </p>
            <div class="table-wrap" tabindex="0" role="region" aria-label="Delivery overview (scrolls sideways)">
                <table class="overview">
                    <caption>"Delivery overview"</caption>
                    <thead><tr>
                        <th scope="col">"Measure"</th>
                        {o.windows.iter().map(|x| view! { <th scope="col">{x.label.clone()}</th> }).collect_view()}
                    </tr></thead>
                    <tbody>
                        {row("Orders", "", |x| grouped(x.orders).into_any())}
                        {row("Sent", "send attempts", |x| grouped(x.sent).into_any())}
                        {row("Accepted", "", |x| grouped(x.accepted).into_any())}
                        {row("Bounce rate", "warning at 5 %, critical at 10 % of sent", |x| view! { <Rate rate=x.bounce.clone()/> }.into_any())}
                        {class_rows}
                        {row("Complaint rate", "warning at 0.1 %, critical at 0.3 % of accepted", |x| view! { <Rate rate=x.complaints.clone()/> }.into_any())}
                        {row("Reach rate", "orders that arrived in the period and reached the customer", |x| view! { <Rate rate=x.reach.clone()/> }.into_any())}
                        {row("Median time to receipt", "intake to reach", |x| x.ttr_median.clone().into_any())}
                        {row("90th percentile time to receipt", "", |x| x.ttr_p90.clone().into_any())}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
