use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::status::{ActionStatus, ErrorNotice};
use crate::server_fns::auth::current_user;
use crate::server_fns::suppressions::{AddSuppression, ReleaseSuppression, list_suppressions};

/// Addresses Rebound will not mail, and why. Admins add and release.
#[component]
pub fn SuppressionsPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let add = ServerAction::<AddSuppression>::new();
    let release = ServerAction::<ReleaseSuppression>::new();
    let rows = crate::resource::resource(
        move || (search(), add.version().get(), release.version().get()),
        |(q, _, _)| list_suppressions(q),
    );
    let user = crate::resource::resource(|| (), |_| current_user());
    view! {
        <Title text="Suppressions · Rebound"/>
        <h1>"Suppressions"</h1>
        <p class="muted">"A hard bounce or a complaint puts an address here. Receipts to it skip email and go straight to the fallback path."</p>
        <form method="get" action="/suppressions" class="inline" role="search">
            <label for="sup-q">"Search"</label>
            <input id="sup-q" name="q" type="search" value=search/>
            <button type="submit">"Search"</button>
        </form>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let admin = matches!(user.await, Ok(Some(u)) if u.role == crate::types::Role::Admin);
                admin.then(|| view! {
                    <p>
                        <a href="/admin/suppressions.csv" download="" rel="external">"Download CSV"</a>
                        " "<span class="muted">"Every active suppression: email, reason, source, created and expiry times (UTC)."</span>
                    </p>
                })
            })}
        </Suspense>
        <ActionStatus value=Signal::derive(move || release.value().get()) success=Signal::derive(|| "Released.".to_string())/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No suppressed addresses."</p> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                            <table>
                                <caption class="sr-only">"Suppressed addresses"</caption>
                                <thead><tr><th scope="col">"Address"</th><th scope="col">"Reason"</th><th scope="col">"Source"</th><th scope="col">"Since"</th><th scope="col">"Action"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|s| view! {
                                        <tr>
                                            <td class="email">{s.email.clone()}</td><td>{s.reason}</td><td>{s.source}</td><td class="nowrap">{s.created_at}</td>
                                            <td>
                                                <ActionForm action=release attr:class="inline">
                                                    <input type="hidden" name="email" value=s.email.clone()/>
                                                    <button type="submit" class="small">{format!("Release {}", s.email)}</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>
        <section class="card" aria-labelledby="sup-add-h">
            <h2 id="sup-add-h">"Suppress an address"</h2>
            <ActionStatus value=Signal::derive(move || add.value().get()) success=Signal::derive(|| "Suppressed.".to_string())/>
            <ActionForm action=add attr:class="form-grid">
                <label for="sup-email">"Email"</label>
                <input id="sup-email" name="email" type="email" required/>
                <button type="submit" class="primary">"Suppress"</button>
            </ActionForm>
        </section>
    }
}
