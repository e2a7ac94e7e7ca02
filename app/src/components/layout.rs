use leptos::prelude::*;
use leptos_router::components::A;

use crate::server_fns::auth::{Logout, current_user};
use crate::types::{Role, SessionUser};

/// The frame around every staff page: brand, navigation for the user's role,
/// sign-out, and the page itself in `<main>`.
#[component]
pub fn StaffLayout(children: Children) -> impl IntoView {
    let user = crate::resource::resource(|| (), |_| current_user());
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/">"Rebound"</a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(u)) => view! { <Nav user=u/> }.into_any(),
                        _ => view! { <a class="signin" href="/login">"Sign in"</a> }.into_any(),
                    }
                })}
            </Suspense>
        </header>
        <main id="main" class="content" tabindex="-1">{children()}</main>
    }
}

#[component]
fn Nav(user: SessionUser) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let is_admin = user.role == Role::Admin;
    view! {
        <nav aria-label="Main">
            <ul class="nav">
                <li><A href="/" exact=true>"Overview"</A></li>
                {(is_admin || user.role == Role::Manager).then(|| view! { <li><A href="/trends">"Trends"</A></li> })}
                <li><A href="/search">"Search"</A></li>
                <li><A href="/orders">"Orders"</A></li>
                <li><A href="/flagged">"VPN-flagged"</A></li>
                {(user.role != Role::Manager).then(|| view! { <li><A href="/held">"Held queue"</A></li> })}
                <li><A href="/suppressions">"Suppressions"</A></li>
                {(is_admin || user.role == Role::Manager).then(|| view! { <li><A href="/pools">"Sender pools"</A></li> })}
                {is_admin.then(|| view! {
                    <li><A href="/admin/rules">"Bounce rules"</A></li>
                    <li><A href="/admin/outbox">"Outbox"</A></li>
                    <li><A href="/admin/webhooks">"Shop webhooks"</A></li>
                    <li><A href="/admin/api-keys">"API keys"</A></li>
                    <li><A href="/admin/users">"Users"</A></li>
                    <li><A href="/admin/audit">"Audit log"</A></li>
                })}
            </ul>
        </nav>
        <div class="whoami">
            <span class="who">{user.display_name.clone()}" · "{user.role.label()}</span>
            <ActionForm action=logout attr:class="inline">
                <button type="submit" class="link">"Sign out"</button>
            </ActionForm>
        </div>
    }
}
