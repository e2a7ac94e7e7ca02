//! "Page not found" (HTTP 404), inside the staff frame so the navigation is
//! there to go on from.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::layout::StaffLayout;

/// A body for an address with nothing at it: sets the status to 404 on the
/// server's render. Used by the router's fallback and by pages whose record
/// does not exist (an unknown order).
#[component]
pub fn NotFoundBody(#[prop(into)] what: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found · Rebound"/>
        <h1>"Not found"</h1>
        <p>{what}</p>
        <ul class="capabilities">
            <li><a href="/">"Go to the Overview"</a></li>
            <li><a href="/search">"Search orders by number, email or phone"</a></li>
        </ul>
    }
}

/// The router's fallback: any address no page answers.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <StaffLayout>
            <NotFoundBody what="There is nothing at this address. Use the menu, or one of these:"/>
        </StaffLayout>
    }
}
