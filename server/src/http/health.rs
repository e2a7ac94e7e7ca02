use app::ssr::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use engine::delivery::worker::Heartbeat;
use serde_json::json;

/// A worker loop that has not gone round for this long is reported stalled.
pub const WORKER_STALE_MS: i64 = 30_000;

/// What the operations endpoints (`/healthz`, `/readyz`, `/metrics`) read.
#[derive(Clone)]
pub struct OpsState {
    pub app: AppState,
    /// The send worker's heartbeat when this process runs workers (role
    /// `worker` or `all`); `None` for a web-only process.
    pub heartbeat: Option<Heartbeat>,
}

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process can do its work: the database answers and is migrated, and the
/// workers (when this process runs them) are going round.
pub async fn readyz(State(ops): State<OpsState>) -> (StatusCode, Json<serde_json::Value>) {
    let state = &ops.app;
    let db_ok = state.db.ping().await.is_ok();
    let migrations_ok = db_ok && state.db.migrations_current().await.unwrap_or(false);
    let now = state.clock.now_ms();
    let (workers_ok, workers) = match &ops.heartbeat {
        None => (true, "not run by this process"),
        Some(h) if h.is_fresh(now, WORKER_STALE_MS) => (true, "running"),
        Some(h) if h.last().is_none() => (false, "not started"),
        Some(_) => (false, "stalled"),
    };
    let ready = db_ok && migrations_ok && workers_ok;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let last_tick_age_seconds = ops
        .heartbeat
        .as_ref()
        .and_then(Heartbeat::last)
        .map(|t| (now - t).max(0) / 1000);
    (
        status,
        Json(json!({
            "ready": ready,
            "database": if db_ok { "ok" } else { "unreachable" },
            "migrations": if migrations_ok { "current" } else { "pending" },
            "workers": workers,
            "worker_last_tick_seconds_ago": last_tick_age_seconds,
            "backend": state.db.backend_name(),
        })),
    )
}
