use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::ErrorNotice;

use crate::server_fns::auth::current_user;
use crate::server_fns::stats::stats_overview;
use crate::types::{OverviewView, OverviewWindow, RateView, Role};

/// Where staff land after signing in: the delivery overview (today, 7 and 30
/// days) and what their role can reach.
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
                        <h1>"Welcome, "{u.display_name.clone()}</h1>
                        <p>"You are signed in as "<strong>{u.email.clone()}</strong>" with the role "
                            <strong>{u.role.label()}</strong>"."</p>
                        {match overview.await {
                            Ok(o) => view! { <Overview o=o show_held_link=u.role != Role::Manager/> }.into_any(),
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

#[component]
fn Overview(o: OverviewView, show_held_link: bool) -> impl IntoView {
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
        <section aria-labelledby="overview-h">
            <h2 id="overview-h">"Overview"</h2>
            <p class="muted">"Days are UTC. The numbers come from rollups refreshed once a minute"
                {o.refreshed.clone().map(|r| format!(" (last: {r})"))}"."</p>
            {o.demo_data.then(|| view! {
                <p class="notice warn">"Includes demo orders (generated history); "
                    <code>"rebound demo clear"</code>" removes them."</p>
            })}
            {(!o.pool_alerts.is_empty()).then(|| view! {
                <div class="notice warn" role="alert" data-testid="pool-alerts">
                    <strong>"Sender pool alerts"</strong>
                    <ul>{o.pool_alerts.iter().map(|a| view! { <li>{a.clone()}</li> }).collect_view()}</ul>
                    <a href="/pools">"Open the sender pools"</a>
                </div>
            })}
            <p class="held-now" data-testid="held-now">
                <strong>{format!("Held now: {}", o.held_now)}</strong>
                {o.oldest_held.clone().map(|h| format!(" · oldest {h}"))}
                {(show_held_link && o.held_now > 0).then(|| view! { " · " <a href="/held">"Open the held queue"</a> })}
            </p>
            <div class="table-wrap">
                <table class="overview">
                    <caption>"Delivery overview"</caption>
                    <thead><tr>
                        <th scope="col">"Measure"</th>
                        {o.windows.iter().map(|x| view! { <th scope="col">{x.label.clone()}</th> }).collect_view()}
                    </tr></thead>
                    <tbody>
                        {row("Orders", "", |x| x.orders.to_string().into_any())}
                        {row("Sent", "send attempts", |x| x.sent.to_string().into_any())}
                        {row("Accepted", "", |x| x.accepted.to_string().into_any())}
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
