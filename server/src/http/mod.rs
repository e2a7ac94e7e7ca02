//! The HTTP surface: Leptos pages and server functions, health checks, and the
//! middleware every request passes (sessions, CSRF guard, sign-in gate).

mod auth_gate;
mod bad_args;
mod charts;
mod csrf;
mod customer_pages;
pub mod health;
pub mod metrics;
mod page_csp;
mod receipt_links;
pub mod site_files;
mod staff;
mod suppressions_csv;
mod transfer;
mod twilio;

use app::ssr::AppState;
use app::{App, shell};
use axum::Router;
use axum::middleware;
use axum::routing::get;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::sessions::DbSessionStore;
use engine::delivery::worker::Heartbeat;

pub const SESSION_COOKIE: &str = "rebound_session";

/// Builds the whole router for `state`; `wake` pokes the send worker when an
/// order arrives.
pub async fn router(
    state: AppState,
    leptos_options: LeptosOptions,
    wake: Arc<Notify>,
) -> Result<Router, sqlx::Error> {
    router_with_workers(state, leptos_options, wake, None).await
}

/// [`router`] for a process that also runs the workers: `/readyz` then
/// watches their `heartbeat`.
pub async fn router_with_workers(
    state: AppState,
    leptos_options: LeptosOptions,
    wake: Arc<Notify>,
    heartbeat: Option<Heartbeat>,
) -> Result<Router, sqlx::Error> {
    let ops = ops_router(state.clone(), heartbeat);
    let api = crate::api::router(Arc::new(crate::api::ApiParts {
        db: state.db.clone(),
        clock: state.clock.clone(),
        config: state.config.clone(),
        wake,
        risk: state.risk.clone(),
        intake: engine::orders::IntakeWriter::start(state.db.clone()),
    }));
    // Signed by Twilio, not by a session: outside the session and CSRF layers too.
    let twilio = twilio::router(state.clone());
    // Customer receipt links: the token is the credential, no session needed.
    let receipt_links = receipt_links::router(state.clone());
    let store = DbSessionStore::for_db(&state.db).await?;
    // Expired sessions are swept in the background; any web process may do it.
    tokio::spawn(crate::sessions::sweep_expired(
        store.clone(),
        Duration::from_secs(600),
    ));
    let session_layer = SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(state.config.session.secure_cookie)
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(
            state.config.session.idle_minutes,
        )));

    // Only a build with hashed names has files to cache for a year (and
    // reading the site is start-up work a test server need not do).
    let content_addressed = if leptos_options.hash_files {
        site_files::content_addressed(&site_files::pkg_dir(&leptos_options))
    } else {
        Default::default()
    };
    let routes = generate_route_list(App);
    let ctx_state = state.clone();
    let router = Router::new()
        // Admins download the suppression list (session + role checked in the handler).
        .route(
            suppressions_csv::PATH,
            get(suppressions_csv::download).with_state(state.clone()),
        )
        // Trend charts as SVG and CSV (managers; session + role checked in the handler).
        .route(charts::PATH, get(charts::chart).with_state(state.clone()))
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            move || {
                provide_context(ctx_state.clone());
                page_csp::record_nonce();
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler_with_context(
            page_csp::record_nonce,
            shell,
        ))
        .layer(middleware::from_fn(customer_pages::without_scripts))
        .layer(middleware::from_fn(page_csp::with_page_csp))
        .layer(middleware::from_fn(auth_gate::require_sign_in))
        .layer(middleware::from_fn(bad_args::bad_arguments_are_400))
        .layer(session_layer)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            csrf::reject_cross_origin,
        ))
        .with_state(leptos_options);
    // The shop API carries no cookies: outside the session and CSRF layers.
    Ok(transfer::compressed(
        security_headers(
            api.merge(ops)
                .merge(twilio)
                .merge(receipt_links)
                .merge(router),
            &state.config,
        ),
        content_addressed,
    ))
}

/// `/healthz`, `/readyz` and `/metrics`: no session, no CSRF (probes and
/// scrapers carry no cookies). The whole HTTP surface of a `--role worker` process.
pub fn ops_router(state: AppState, heartbeat: Option<Heartbeat>) -> Router {
    let ops = health::OpsState {
        app: state,
        heartbeat,
    };
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(metrics::PATH, get(metrics::metrics))
        .with_state(ops)
}

/// The router of a `--role worker` process, with the same response headers.
pub fn worker_router(state: AppState, heartbeat: Option<Heartbeat>) -> Router {
    let config = state.config.clone();
    security_headers(ops_router(state, heartbeat), &config)
}

/// Headers every response carries (pages add their CSP with the script
/// nonce themselves, see `app::shell`). No referrer leaves the site
/// (customer receipt URLs carry their token in the path); same-origin
/// referrers stay, because no-JS form posts are sent back by them and the
/// CSRF guard checks the origin.
fn security_headers(router: Router, config: &engine::Config) -> Router {
    use axum::http::{HeaderName, HeaderValue, header};
    use tower_http::set_header::SetResponseHeaderLayer;
    let fixed: [(HeaderName, &'static str); 4] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    let mut router = router;
    for (name, value) in fixed {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    // A CSP for everything that is not a page (JSON, PDF, SVG): nothing may run.
    router = router.layer(SetResponseHeaderLayer::if_not_present(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    ));
    if config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
    {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    router
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Without TCP_NODELAY the last segment of a large page (the held queue
    // is ~400 KB) can wait for the client's delayed ACK: ~40 ms stalls.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
