//! How responses travel: compressed when the client accepts it, and cached
//! by browsers only as long as they can be sure it is still current.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use std::collections::HashSet;
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};

/// Brotli or gzip for every text-like response (HTML, JSON, CSS, JS, SVG,
/// CSV) and the WASM; not for what is already compressed (PDF, images) or
/// too small to gain. Brotli at tower-http's default level (4) costs about
/// as much CPU as gzip's default and saves more. `content_addressed` names
/// the files under `/pkg/` that may be cached for a year
/// (`site_files::content_addressed`).
pub fn compressed(router: Router, content_addressed: HashSet<String>) -> Router {
    let worth_it = SizeAbove::new(256)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::const_new("application/pdf"))
        .and(NotForContentType::SSE);
    router
        .layer(middleware::from_fn_with_state(
            Arc::new(content_addressed),
            site_asset_caching,
        ))
        .layer(
            CompressionLayer::new()
                .br(true)
                .gzip(true)
                .compress_when(worth_it),
        )
}

/// A file under `/pkg/` whose name is its content's hash never changes, so a
/// browser keeps it for a year without asking (`immutable`); which ones those
/// are is `site_files`' finding. Every other file there must be asked for
/// again before reuse (`no-cache`, answered `304 Not Modified` by
/// `Last-Modified` when nothing changed): a stale WASM beside fresh HTML
/// would break hydration.
async fn site_asset_caching(
    State(content_addressed): State<Arc<HashSet<String>>>,
    request: Request,
    next: Next,
) -> Response {
    let asset = request.uri().path().strip_prefix("/pkg/").map(|name| {
        if content_addressed.contains(name) {
            IMMUTABLE
        } else {
            "no-cache"
        }
    });
    let mut response = next.run(request).await;
    if let Some(policy) = asset
        && response.status().is_success()
    {
        response
            .headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static(policy));
    }
    response
}

/// A year, and `immutable` (RFC 8246): not even a reload asks again.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
