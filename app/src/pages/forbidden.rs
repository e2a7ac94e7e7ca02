//! The refusal page: a staff page the signed-in role may not open. It answers
//! HTTP 403 (set on the server's render), keeps the navigation (the layout
//! draws it around this page) and says what the role can open instead.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::layout::{Access, pages_for};
use crate::types::Role;

#[component]
pub fn Forbidden(role: Role, access: Access) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::FORBIDDEN);
    }
    let instead = pages_for(role)
        .into_iter()
        .flat_map(|(_, links)| links)
        .collect::<Vec<_>>();
    view! {
        <Title text="Not for your role · Rebound"/>
        <h1>"This page is not for your role"</h1>
        <p class="notice warn" role="note">
            {format!(
                "This page is for {}. You are signed in as {}, so nothing here was shown or changed.",
                access.who(),
                role.label().to_lowercase()
            )}
        </p>
        <h2>"What you can open instead"</h2>
        <ul class="capabilities" data-testid="instead">
            {instead.into_iter().map(|(label, href)| view! { <li><a href=href>{label}</a></li> }).collect_view()}
        </ul>
        <p class="muted">"If you need this page for your work, ask an admin to change your role."</p>
    }
}
