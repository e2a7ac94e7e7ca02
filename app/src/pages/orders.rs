use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::ErrorNotice;
use leptos_router::hooks::use_query_map;

use crate::components::orders_table::OrdersTable;
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
    let page = crate::resource::resource(before, list_orders);
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
                        <OrdersTable rows=p.rows caption="Orders, newest first"/>
                        {p.next_before.map(|b| view! { <p><a href=format!("/orders?before={b}")>"Older orders →"</a></p> })}
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}
