use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::ErrorNotice;
use leptos_router::hooks::use_query_map;

use crate::components::badge::StateBadge;
use crate::server_fns::orders::list_orders;

/// Recent orders and where each receipt stands. Agents and managers.
#[component]
pub fn OrdersPage() -> impl IntoView {
    let query = use_query_map();
    let before = move || {
        query
            .read()
            .get("before")
            .and_then(|b| b.parse::<i64>().ok())
    };
    let page = Resource::new(before, list_orders);
    view! {
        <Title text="Orders · Rebound"/>
        <h1>"Orders"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) if p.rows.is_empty() => view! {
                        <p class="muted">"No orders yet. Shops post them to "<code>"POST /api/v1/orders"</code>"."</p>
                    }.into_any(),
                    Ok(p) => view! {
                        <div class="table-wrap">
                            <table>
                                <caption class="sr-only">"Orders, newest first"</caption>
                                <thead><tr>
                                    <th scope="col">"Order"</th><th scope="col">"Placed"</th><th scope="col">"Customer"</th>
                                    <th scope="col">"Account"</th><th scope="col">"Total"</th><th scope="col">"Receipt"</th>
                                    <th scope="col">"Attempts"</th><th scope="col">"Network · risk"</th>
                                </tr></thead>
                                <tbody>
                                    {p.rows.into_iter().map(|o| view! {
                                        <tr>
                                            <td><a href=format!("/orders/{}", o.order_number)>{o.order_number.clone()}</a></td>
                                            <td class="nowrap">{o.placed_at}</td>
                                            <td>{o.customer_email}</td>
                                            <td>{o.account_kind}</td>
                                            <td class="nowrap">{o.total}</td>
                                            <td><StateBadge state=o.state/><span class="detail">{o.state_detail}</span></td>
                                            <td>{o.attempts}</td>
                                            <td>
                                                {if o.network == "residential" {
                                                    view! { <span class="muted">{o.network_label.clone()}</span> }.into_any()
                                                } else {
                                                    view! { <span class="badge level-warning">{o.network_label.clone()}</span> }.into_any()
                                                }}
                                                {o.risk_score.map(|r| format!(" · risk {r}"))}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        {p.next_before.map(|b| view! { <p><a href=format!("/orders?before={b}")>"Older orders →"</a></p> })}
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}
