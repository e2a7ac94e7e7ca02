use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::ActionStatus;
use crate::server_fns::pools::{SetPoolEnabled, list_pools};
use crate::types::error_text;

/// Sender pools: who receipts are sent as and through which relay.
#[component]
pub fn PoolsPage() -> impl IntoView {
    let toggle = ServerAction::<SetPoolEnabled>::new();
    let pools = Resource::new(move || toggle.version().get(), |_| list_pools());
    view! {
        <Title text="Sender pools · Rebound"/>
        <h1>"Sender pools"</h1>
        <p class="muted">"Receipts go through the primary pool first; retries walk on to the backup pools, never through a pool that was just blocked for reputation. The masked pool re-sends fallback links under a neutral name."</p>
        <ActionStatus value=Signal::derive(move || toggle.value().get()) success=Signal::derive(|| "Saved.".to_string())/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match pools.await {
                    Ok(rows) => view! {
                        <div class="table-wrap">
                            <table>
                                <caption class="sr-only">"Sender pools"</caption>
                                <thead><tr>
                                    <th scope="col">"Name"</th><th scope="col">"Role"</th><th scope="col">"From"</th>
                                    <th scope="col">"Relay"</th><th scope="col">"Max/s"</th><th scope="col">"State"</th><th scope="col">"Action"</th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|p| view! {
                                        <tr>
                                            <td>{p.name.clone()}</td><td>{p.role}</td><td>{p.from}</td>
                                            <td><code>{p.relay}</code></td><td>{p.max_per_second}</td>
                                            <td>{if p.enabled { "Active" } else { "Paused" }}</td>
                                            <td>
                                                <ActionForm action=toggle attr:class="inline">
                                                    <input type="hidden" name="pool_id" value=p.id/>
                                                    <input type="hidden" name="enabled" value=if p.enabled { "false" } else { "true" }/>
                                                    <button type="submit" class="small">{if p.enabled { "Pause" } else { "Resume" }}</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <p class="notice error" role="alert">{error_text(&e)}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
