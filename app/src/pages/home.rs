use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::ErrorNotice;

use crate::server_fns::auth::current_user;
use crate::types::Role;

/// Where staff land after signing in: who they are and what they can reach.
#[component]
pub fn HomePage() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <Title text="Home · Rebound"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(u)) => view! {
                        <h1>"Welcome, "{u.display_name.clone()}</h1>
                        <p>"You are signed in as "<strong>{u.email.clone()}</strong>" with the role "
                            <strong>{u.role.label()}</strong>"."</p>
                        <h2>"What you can do"</h2>
                        <ul class="capabilities">
                            {match u.role {
                                Role::Admin => view! {
                                    <li><a href="/orders">"Follow every order's receipt"</a></li>
                                    <li><a href="/pools">"Pause or resume sender pools"</a></li>
                                    <li><a href="/admin/api-keys">"Create API keys for shops"</a></li>
                                    <li><a href="/admin/outbox">"Read captured messages (development)"</a></li>
                                    <li><a href="/admin/users">"Manage staff accounts and roles"</a></li>
                                    <li><a href="/admin/audit">"Read the audit log"</a></li>
                                }.into_any(),
                                Role::Manager => view! {
                                    <li><a href="/orders">"Read orders and their delivery story (contact details masked)"</a></li>
                                    <li><a href="/pools">"See the sender pools"</a></li>
                                }.into_any(),
                                Role::Agent => view! {
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
