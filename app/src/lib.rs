//! Rebound's browser UI. Pages and components render on the server (feature
//! `ssr`) and hydrate in the browser (feature `hydrate`). Server functions live
//! in `server_fns/`, one per file, grouped by domain; their bodies run only on
//! the server and reach the domain through `engine`.
#![recursion_limit = "256"]

pub mod components;
pub mod error;
pub mod pages;
pub mod resource;
pub mod routes;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod types;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::SsrMode;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use leptos_router::Lazy;
use pages::not_found::NotFound;

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
    // The Content-Security-Policy naming this response's script nonce is set
    // by the server around the render (`server/src/http/page_csp.rs`).
    // The stylesheet by the name the build gave it (hashed: cached for a year).
    let stylesheet = view! { <HashedStylesheet options=options.clone() id="leptos"/> };
    let scripts = (!is_customer_page()).then(|| {
        view! {
            <AutoReload options=options.clone()/>
            <HydrationScripts options/>
        }
    });
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                {stylesheet}
                {scripts}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The customer's pages (`/r/{token}`: the receipt, the expired-link and
/// rate-limit pages) load no WASM and no script: they must open fast on a
/// phone on a weak connection, and they work the same with JavaScript off
/// (their one form is a plain POST). Staff pages hydrate.
fn is_customer_page() -> bool {
    use_context::<http::request::Parts>().is_some_and(|p| p.uri.path().starts_with("/r/"))
}

/// Marks `<body data-hydrated="true">` once the page in view has hydrated, so
/// browser tests wait until it is interactive. Called by each route's view
/// (`routes.rs`), not by `App`: `App`'s effects run while a lazy page's chunk
/// is still loading, before the page has its event handlers.
pub fn mark_interactive() {
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title text="Rebound"/>
        <Router>
            // Async SSR: pages arrive complete, so they read fine with JavaScript off.
            <Routes fallback=|| { mark_interactive(); view! { <NotFound/> } }>
                <Route path=path!("/login") ssr=SsrMode::Async view={Lazy::<routes::Login>::new()}/>
                <Route path=path!("/r/:token") ssr=SsrMode::Async view={Lazy::<routes::ReceiptLink>::new()}/>
                <Route path=path!("/") ssr=SsrMode::Async view={Lazy::<routes::Home>::new()}/>
                <Route path=path!("/admin/users") ssr=SsrMode::Async view={Lazy::<routes::Users>::new()}/>
                <Route path=path!("/admin/audit") ssr=SsrMode::Async view={Lazy::<routes::Audit>::new()}/>
                <Route path=path!("/admin/outbox") ssr=SsrMode::Async view={Lazy::<routes::Outbox>::new()}/>
                <Route path=path!("/admin/webhooks") ssr=SsrMode::Async view={Lazy::<routes::AdminWebhooks>::new()}/>
                <Route path=path!("/admin/api-keys") ssr=SsrMode::Async view={Lazy::<routes::ApiKeys>::new()}/>
                <Route path=path!("/admin/rules") ssr=SsrMode::Async view={Lazy::<routes::Rules>::new()}/>
                <Route path=path!("/suppressions") ssr=SsrMode::Async view={Lazy::<routes::Suppressions>::new()}/>
                <Route path=path!("/pools") ssr=SsrMode::Async view={Lazy::<routes::Pools>::new()}/>
                <Route path=path!("/trends") ssr=SsrMode::Async view={Lazy::<routes::Trends>::new()}/>
                <Route path=path!("/held") ssr=SsrMode::Async view={Lazy::<routes::Held>::new()}/>
                <Route path=path!("/flagged") ssr=SsrMode::Async view={Lazy::<routes::Flagged>::new()}/>
                <Route path=path!("/search") ssr=SsrMode::Async view={Lazy::<routes::Search>::new()}/>
                <Route path=path!("/orders") ssr=SsrMode::Async view={Lazy::<routes::Orders>::new()}/>
                <Route path=path!("/orders/:number") ssr=SsrMode::Async view={Lazy::<routes::Order>::new()}/>
            </Routes>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Pages are lazy routes (`routes.rs`): hydration waits for the page's chunk.
    leptos::mount::hydrate_lazy(App);
}
