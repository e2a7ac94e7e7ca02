use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::ErrorNotice;

use crate::server_fns::bounces::list_rules;

/// The bounce classifier's rules and how often each decided in the last 7 days.
#[component]
pub fn RulesPage() -> impl IntoView {
    let rules = crate::resource::resource(|| (), |_| list_rules());
    view! {
        <Title text="Bounce rules · Rebound"/>
        <h1>"Bounce rules"</h1>
        <p class="muted">"Rules are data ("<code>"engine/rules/bounce_rules.toml"</code>"), loaded at start. Precedence: an ESP's own verdict, provider-specific texts, strong status codes, generic texts, status codes, reply codes."</p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match rules.await {
                    Ok(rows) => view! {
                        <div class="table-wrap">
                            <table>
                                <caption class="sr-only">"Bounce rules"</caption>
                                <thead><tr><th scope="col">"Rule"</th><th scope="col">"Reason"</th><th scope="col">"Class"</th><th scope="col">"Matches"</th><th scope="col">"Hits (7 days)"</th></tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|r| view! {
                                        <tr title=r.note>
                                            <td><code>{r.id}</code></td><td>{r.reason}</td><td>{r.class}</td>
                                            <td><code class="wrap">{r.matches}</code></td><td>{r.hits_7d}</td>
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
    }
}
