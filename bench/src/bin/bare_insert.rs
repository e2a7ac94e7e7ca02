//! The intake ceiling, in its own process: axum with one handler that inserts
//! the posted body as one row with sqlx (one statement, its own commit) and
//! answers `202 {"id": …, "status": "queued"}`, on the same kind of database
//! with Rebound's pool settings (`engine::Db::connect`).
//!
//! `bare-insert --db URL --bind 127.0.0.1:PORT`; `GET /healthz` answers once
//! the table exists.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use engine::Db;

async fn insert(State(db): State<Db>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body).into_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let res: Result<i64, sqlx::Error> = engine::on_pool!(&db, p => sqlx::query_scalar(
        "INSERT INTO bare_orders (body, created_at) VALUES ($1, $2) RETURNING id"
    ).bind(&text).bind(now).fetch_one(p).await);
    match res {
        Ok(id) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "id": id, "status": "queued" })),
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn run() -> Result<(), String> {
    let (mut db_url, mut bind) = (None, None);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--db" => db_url = Some(value),
            "--bind" => bind = Some(value),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    let (Some(db_url), Some(bind)) = (db_url, bind) else {
        return Err("usage: bare-insert --db URL --bind ADDR".to_string());
    };
    let db = Db::connect(&db_url).await.map_err(|e| e.to_string())?;
    let ddl = match &db {
        Db::Sqlite(_) => {
            "CREATE TABLE IF NOT EXISTS bare_orders (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, created_at BIGINT NOT NULL)"
        }
        Db::Postgres(_) => {
            "CREATE TABLE IF NOT EXISTS bare_orders (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL, created_at BIGINT NOT NULL)"
        }
    };
    engine::exec_on_pool!(&db, p => sqlx::query(ddl).execute(p).await)
        .map_err(|e| format!("create bare_orders: {e}"))?;
    let router = Router::new()
        .route("/bare/orders", post(insert))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(db);
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("listen on {bind}: {e}"))?;
    axum::serve(listener, router)
        .await
        .map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bare-insert: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
