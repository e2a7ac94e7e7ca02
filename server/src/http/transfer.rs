//! How responses travel: compressed when the client accepts it, and cached
//! by browsers only as long as they can be sure it is still current.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};

/// Brotli or gzip for every text-like response (HTML, JSON, CSS, JS, SVG,
/// CSV) and the WASM; not for what is already compressed (PDF, images) or
/// too small to gain. Brotli at tower-http's default level (4) costs about
/// as much CPU as gzip's default and saves more.
pub fn compressed(router: Router) -> Router {
    let worth_it = SizeAbove::new(256)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::const_new("application/pdf"))
        .and(NotForContentType::SSE);
    router.layer(middleware::from_fn(site_asset_caching)).layer(
        CompressionLayer::new()
            .br(true)
            .gzip(true)
            .compress_when(worth_it),
    )
}

/// The site's files under `/pkg/` keep their names from build to build, so a
/// browser must ask again before reusing one (`no-cache`); the answer is a
/// `304 Not Modified` by `Last-Modified` when nothing changed. A stale WASM
/// beside fresh HTML would break hydration, so "cache for a year" is only
/// safe for hashed file names.
async fn site_asset_caching(request: Request, next: Next) -> Response {
    let is_asset = request.uri().path().starts_with("/pkg/");
    let mut response = next.run(request).await;
    if is_asset && response.status().is_success() {
        response
            .headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-cache"));
    }
    response
}
