use app::ssr::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process can do its work: the database answers and is migrated.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let db_ok = state.db.ping().await.is_ok();
    let migrations_ok = db_ok && state.db.migrations_current().await.unwrap_or(false);
    let ready = db_ok && migrations_ok;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "ready": ready,
            "database": if db_ok { "ok" } else { "unreachable" },
            "migrations": if migrations_ok { "current" } else { "pending" },
            "backend": state.db.backend_name(),
        })),
    )
}
