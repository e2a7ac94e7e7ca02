//! `GET /metrics`: Prometheus text format. The recorder is installed once per
//! process; counters come from wherever the work happens (`engine::metrics`
//! names them all), the queue gauges are read from the database on each scrape
//! so every process reports the shared queue.
//!
//! Access: with `metrics.token` set, only `Authorization: Bearer <token>`;
//! without one, only a loopback peer that did not come through a proxy (a
//! proxy on the same host would otherwise make every outside request look
//! local).

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::json;

use super::health::OpsState;

pub const PATH: &str = "/metrics";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder for this process (once; later calls, e.g.
/// several test servers in one process, share it) and returns its handle.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new();
            // Real buckets for the intake latency (a summary cannot be aggregated across processes).
            let builder = match builder.set_buckets_for_metric(
                Matcher::Full(engine::metrics::INTAKE_SECONDS.to_string()),
                engine::metrics::INTAKE_BUCKETS,
            ) {
                Ok(b) => b,
                Err(_) => PrometheusBuilder::new(),
            };
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
            }
            engine::metrics::describe();
            handle
        })
        .clone()
}

/// Headers a reverse proxy adds: their presence means the request is not local.
const PROXY_HEADERS: [&str; 3] = ["x-forwarded-for", "forwarded", "x-real-ip"];

/// Whether this request may read the metrics.
pub fn allowed(token: Option<&str>, peer: SocketAddr, headers: &HeaderMap) -> bool {
    match token {
        Some(expected) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|presented| engine::metrics::token_matches(expected, presented.trim())),
        None => {
            let ip = match peer.ip() {
                std::net::IpAddr::V6(v6) => v6
                    .to_ipv4_mapped()
                    .map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4),
                v4 => v4,
            };
            ip.is_loopback() && !PROXY_HEADERS.iter().any(|h| headers.contains_key(*h))
        }
    }
}

pub async fn metrics(
    State(ops): State<OpsState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let token = ops.app.config.metrics.token.as_deref();
    if !allowed(token, peer, &headers) {
        let why = if token.is_some() {
            "a valid metrics token is required"
        } else {
            "metrics are served only to local requests (set metrics.token to scrape from elsewhere)"
        };
        return (StatusCode::FORBIDDEN, Json(json!({ "error": why }))).into_response();
    }
    let handle = install();
    let now = ops.app.clock.now_ms();
    if let Err(e) = engine::metrics::refresh_gauges(&ops.app.db, now).await {
        // The counters are still worth serving; the gauges keep their last values.
        tracing::warn!(error = %e, "could not read the queue gauges");
    }
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, axum::http::HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn without_a_token_only_direct_loopback_requests() {
        let local: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        let local6: SocketAddr = "[::1]:5000".parse().expect("addr");
        let remote: SocketAddr = "203.0.113.7:5000".parse().expect("addr");
        assert!(allowed(None, local, &headers(&[])));
        assert!(allowed(None, local6, &headers(&[])));
        assert!(!allowed(None, remote, &headers(&[])));
        assert!(!allowed(
            None,
            local,
            &headers(&[("x-forwarded-for", "203.0.113.7")])
        ));
        assert!(!allowed(
            None,
            local,
            &headers(&[("forwarded", "for=1.2.3.4")])
        ));
    }

    #[test]
    fn with_a_token_only_the_bearer_counts() {
        let t = Some("0123456789abcdef");
        let remote: SocketAddr = "203.0.113.7:5000".parse().expect("addr");
        let local: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        assert!(allowed(
            t,
            remote,
            &headers(&[("authorization", "Bearer 0123456789abcdef")])
        ));
        assert!(!allowed(
            t,
            remote,
            &headers(&[("authorization", "Bearer 0123456789abcdeX")])
        ));
        assert!(
            !allowed(t, local, &headers(&[])),
            "loopback needs the token too"
        );
        assert!(!allowed(
            t,
            remote,
            &headers(&[("authorization", "Basic 0123456789abcdef")])
        ));
    }
}
