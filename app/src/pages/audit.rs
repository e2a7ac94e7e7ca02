use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::ErrorNotice;
use leptos_router::hooks::use_query_map;

use crate::server_fns::audit::list_audit;

/// The audit log, newest first, 50 a page. Admins only.
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let before = move || {
        query
            .read()
            .get("before")
            .and_then(|b| b.parse::<i64>().ok())
    };
    let page = crate::resource::resource(before, list_audit);
    view! {
        <Title text="Audit log · Rebound"/>
        <h1>"Audit log"</h1>
        <p class="muted">"Every change made by staff or the command line: who, what, when and from where."</p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! {
                        <div class="table-wrap">
                            <table>
                                <caption class="sr-only">"Audit entries"</caption>
                                <thead><tr>
                                    <th scope="col">"When"</th><th scope="col">"Who"</th>
                                    <th scope="col">"Action"</th><th scope="col">"Target"</th>
                                    <th scope="col">"Detail"</th><th scope="col">"From"</th>
                                </tr></thead>
                                <tbody>
                                    {p.rows.into_iter().map(|r| view! {
                                        <tr>
                                            <td class="nowrap">{r.at}</td>
                                            <td>{r.actor}</td>
                                            <td><code>{r.action}</code></td>
                                            <td>{r.target}</td>
                                            <td>{r.detail}</td>
                                            <td>{r.ip.unwrap_or_default()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        {p.next_before.map(|b| view! {
                            <p><a href=format!("/admin/audit?before={b}")>"Older entries →"</a></p>
                        })}
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}
