use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::{ActionStatus, ErrorNotice};
use crate::server_fns::apikeys::{CreateApiKey, RevokeApiKey, list_api_keys};

/// Shop API keys: create (the secret is shown once), see last use, revoke.
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = crate::resource::resource(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    view! {
        <Title text="API keys · Rebound"/>
        <h1>"API keys"</h1>
        <p class="muted">"Shops send orders with "<code>"Authorization: Bearer rbk_…"</code>". Rebound keeps only a hash of each key."</p>
        <ActionStatus value=Signal::derive(move || revoke.value().get()) success=Signal::derive(|| "Key revoked.".to_string())/>
        <ActionStatus value=Signal::derive(move || create.value().get()) success=Signal::derive(String::new)/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match keys.await {
                    Ok(v) => view! {
                        {v.fresh_secret.map(|s| view! {
                            <div class="notice ok" role="status">
                                <p>"New key created. Copy it now: it will not be shown again."</p>
                                <p><code class="secret" data-testid="fresh-secret">{s}</code></p>
                            </div>
                        })}
                        <div class="table-wrap">
                            <table>
                                <caption class="sr-only">"API keys"</caption>
                                <thead><tr>
                                    <th scope="col">"Name"</th><th scope="col">"Key"</th><th scope="col">"Created"</th>
                                    <th scope="col">"Last used"</th><th scope="col">"State"</th><th scope="col">"Action"</th>
                                </tr></thead>
                                <tbody>
                                    {v.keys.into_iter().map(|k| view! {
                                        <tr>
                                            <td>{k.name.clone()}</td><td><code>{k.prefix}"…"</code></td>
                                            <td class="nowrap">{k.created_at}" by "{k.created_by}</td>
                                            <td class="nowrap">{k.last_used_at.unwrap_or_else(|| "never".into())}</td>
                                            <td>{if k.revoked { "Revoked" } else { "Active" }}</td>
                                            <td>{(!k.revoked).then(|| view! {
                                                <ActionForm action=revoke attr:class="inline">
                                                    <input type="hidden" name="key_id" value=k.id/>
                                                    <button type="submit" class="small">"Revoke"</button>
                                                </ActionForm>
                                            })}</td>
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
        <section class="card" aria-labelledby="new-key-h">
            <h2 id="new-key-h">"Create a key"</h2>
            <ActionForm action=create attr:class="form-grid">
                <label for="key-name">"Name"</label>
                <input id="key-name" name="name" type="text" required maxlength="100" placeholder="e.g. Web shop production"/>
                <button type="submit" class="primary">"Create key"</button>
            </ActionForm>
        </section>
    }
}
