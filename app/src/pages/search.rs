use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::orders_table::OrdersTable;
use crate::components::status::ErrorNotice;
use crate::server_fns::orders::{SEARCH_LIMIT, search_orders};

/// "Did I get my receipt?": find a customer's orders by email, phone number,
/// order number or customer reference (agents and managers; managers see
/// masked emails). A GET form, so it works with JavaScript off and a search
/// can be linked.
#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let results = crate::resource::resource(q, |q| async move {
        if q.trim().is_empty() {
            None
        } else {
            Some(search_orders(q).await)
        }
    });
    view! {
        <Title text="Search · Rebound"/>
        <h1>"Search orders"</h1>
        <form method="get" action="/search" class="filters" role="search">
            <label for="q">"Order number, email, phone or customer reference"</label>
            <input id="q" name="q" type="search" value=q autocomplete="off"
                placeholder="R-1001, ann@example.com, +4915112345678" aria-describedby="q-hint"/>
            <button type="submit">"Search"</button>
        </form>
        <p id="q-hint" class="muted">"Exact matches; spaces and dashes in phone numbers are ignored."</p>
        <Transition fallback=|| view! { <p>"Searching…"</p> }>
            {move || Suspend::new(async move {
                match results.await {
                    None => view! { <p class="muted">"Type what the customer told you."</p> }.into_any(),
                    Some(Ok(rows)) if rows.is_empty() => view! {
                        <p role="status">"No orders match "<strong>{q()}</strong>"."</p>
                    }.into_any(),
                    Some(Ok(rows)) => {
                        let n = rows.len();
                        view! {
                            <p role="status">
                                {if n as i64 == SEARCH_LIMIT {
                                    format!("The newest {n} matching orders:")
                                } else if n == 1 {
                                    "1 matching order:".to_string()
                                } else {
                                    format!("{n} matching orders:")
                                }}
                            </p>
                            <OrdersTable rows=rows caption="Matching orders, newest first"/>
                        }.into_any()
                    }
                    Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}
