//! Rebound's browser UI. Pages and components render on the server (feature
//! `ssr`) and hydrate in the browser (feature `hydrate`). Server functions live
//! in `server_fns/`, one per file, grouped by domain; their bodies run only on
//! the server and reach the domain through `engine`.
#![recursion_limit = "256"]

pub mod components;
pub mod pages;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod types;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::SsrMode;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use components::layout::StaffLayout;
use pages::{
    api_keys::ApiKeysPage, audit::AuditPage, home::HomePage, login::LoginPage, not_found::NotFound,
    order::OrderPage, orders::OrdersPage, outbox::OutboxPage, pools::PoolsPage, rules::RulesPage,
    suppressions::SuppressionsPage, users::UsersPage,
};

/// The Content-Security-Policy for a page whose scripts carry `nonce`: no
/// inline script runs without it, WebAssembly may compile, everything else
/// comes from this origin (images also from https, for the shop's logo).
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // Leptos puts a fresh nonce on its own scripts for every response; the
    // policy names it, so injected scripts cannot run.
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(value) = http::HeaderValue::from_str(&content_security_policy(&nonce))
    {
        res.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Lets browser tests wait until the page is interactive.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/rebound.css"/>
        <Title text="Rebound"/>
        <Router>
            // Async SSR: pages arrive complete, so they read fine with JavaScript off.
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/login") ssr=SsrMode::Async view=LoginPage/>
                <Route path=path!("/r/:token") ssr=SsrMode::Async view=pages::receipt_link::ReceiptLinkView/>
                <Route path=path!("/") ssr=SsrMode::Async view=|| view! { <StaffLayout><HomePage/></StaffLayout> }/>
                <Route path=path!("/admin/users") ssr=SsrMode::Async view=|| view! { <StaffLayout><UsersPage/></StaffLayout> }/>
                <Route path=path!("/admin/audit") ssr=SsrMode::Async view=|| view! { <StaffLayout><AuditPage/></StaffLayout> }/>
                <Route path=path!("/admin/outbox") ssr=SsrMode::Async view=|| view! { <StaffLayout><OutboxPage/></StaffLayout> }/>
                <Route path=path!("/admin/webhooks") ssr=SsrMode::Async view=|| view! { <StaffLayout><pages::admin_webhooks::AdminWebhooksPage/></StaffLayout> }/>
                <Route path=path!("/admin/api-keys") ssr=SsrMode::Async view=|| view! { <StaffLayout><ApiKeysPage/></StaffLayout> }/>
                <Route path=path!("/admin/rules") ssr=SsrMode::Async view=|| view! { <StaffLayout><RulesPage/></StaffLayout> }/>
                <Route path=path!("/suppressions") ssr=SsrMode::Async view=|| view! { <StaffLayout><SuppressionsPage/></StaffLayout> }/>
                <Route path=path!("/pools") ssr=SsrMode::Async view=|| view! { <StaffLayout><PoolsPage/></StaffLayout> }/>
                <Route path=path!("/trends") ssr=SsrMode::Async view=|| view! { <StaffLayout><pages::trends::TrendsPage/></StaffLayout> }/>
                <Route path=path!("/held") ssr=SsrMode::Async view=|| view! { <StaffLayout><pages::held::HeldPage/></StaffLayout> }/>
                <Route path=path!("/flagged") ssr=SsrMode::Async view=|| view! { <StaffLayout><pages::flagged::FlaggedPage/></StaffLayout> }/>
                <Route path=path!("/search") ssr=SsrMode::Async view=|| view! { <StaffLayout><pages::search::SearchPage/></StaffLayout> }/>
                <Route path=path!("/orders") ssr=SsrMode::Async view=|| view! { <StaffLayout><OrdersPage/></StaffLayout> }/>
                <Route path=path!("/orders/:number") ssr=SsrMode::Async view=|| view! { <StaffLayout><OrderPage/></StaffLayout> }/>
            </Routes>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
