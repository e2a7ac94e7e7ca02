use leptos::prelude::*;

use crate::components::badge::StateBadge;
use crate::types::OrderRow;

/// Orders as a table: number (linked to the order page), placed, customer,
/// account, total, receipt state, attempts, network and risk. The Orders and
/// Search pages share it.
#[component]
pub fn OrdersTable(rows: Vec<OrderRow>, caption: &'static str) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <caption class="sr-only">{caption}</caption>
                <thead><tr>
                    <th scope="col">"Order"</th><th scope="col">"Placed"</th><th scope="col">"Customer"</th>
                    <th scope="col">"Account"</th><th scope="col">"Total"</th><th scope="col">"Receipt"</th>
                    <th scope="col">"Attempts"</th><th scope="col">"Network · risk"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|o| view! {
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
    }
}
