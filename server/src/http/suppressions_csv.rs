//! `GET /admin/suppressions.csv`: the active suppression list as a CSV download, for
//! admins (checked against the database like every server function), audited as
//! `suppression.export`. Signed-out browsers are sent to the sign-in page by the gate
//! before they get here.
//!
//! Columns: `email, reason, source, created_at, expires_at`, times in UTC ISO 8601
//! (`2027-01-15T08:00:00Z`; `expires_at` empty when the suppression does not expire).
//! A cell that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`,
//! tab or CR) is prefixed with `'`.

use std::net::SocketAddr;

use app::ssr::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use engine::clock::Millis;
use engine::suppression::Suppression;
use tower_sessions::Session;

pub const PATH: &str = "/admin/suppressions.csv";

pub async fn download(State(st): State<AppState>, session: Session, req: Request) -> Response {
    let user = match super::staff::require(&st.db, &session, &[]).await {
        Ok(u) => u,
        Err(refused) => return refused.into_response(),
    };
    let now = st.clock.now_ms();
    let rows = match engine::suppression::all_active(&st.db, now).await {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let body = match to_csv(&rows) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "suppression export: CSV writing failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let actor = engine::audit::Actor {
        user_id: Some(user.id),
        name: user.email.clone(),
        ip: Some(client_ip(&st, &req)),
    };
    if let Err(e) = engine::audit::record(
        &st.db,
        now,
        &actor,
        "suppression.export",
        "suppressions",
        &format!("{} addresses as CSV", rows.len()),
    )
    .await
    {
        return internal(e);
    }
    let day = iso_utc(now).get(..10).unwrap_or("export").to_string();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"suppressions-{day}.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

fn internal(e: engine::Error) -> Response {
    tracing::error!(error = %e, "suppression export failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
}

fn client_ip(st: &AppState, req: &Request) -> String {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    app::ssr::auth::client_ip_from(st.config.trust_forwarded_for, req.headers(), peer)
}

/// UTC ISO 8601 to the second: `2027-01-15T08:00:00Z`.
fn iso_utc(ms: Millis) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Keeps a spreadsheet from running a cell as a formula.
fn cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

pub fn to_csv(rows: &[Suppression]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["email", "reason", "source", "created_at", "expires_at"])?;
    for s in rows {
        w.write_record([
            cell(&s.email),
            cell(&s.reason),
            cell(&s.source),
            iso_utc(s.created_at),
            s.expires_at.map(iso_utc).unwrap_or_default(),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(email: &str, reason: &str, expires_at: Option<Millis>) -> Suppression {
        Suppression {
            id: 1,
            email: email.into(),
            reason: reason.into(),
            source: "dsn".into(),
            created_at: 1_800_000_000_123,
            expires_at,
            released_at: None,
            released_by: None,
        }
    }

    #[test]
    fn quoted_timed_and_formula_safe() {
        let csv = to_csv(&[
            row("a@example.com", "userunknown", None),
            row("\"odd,one\"@example.com", "manual", Some(1_800_086_400_000)),
            row("=cmd@example.com", "feedback", None),
        ])
        .expect("csv");
        assert_eq!(
            String::from_utf8(csv).expect("utf8"),
            "email,reason,source,created_at,expires_at\n\
             a@example.com,userunknown,dsn,2027-01-15T08:00:00Z,\n\
             \"\"\"odd,one\"\"@example.com\",manual,dsn,2027-01-15T08:00:00Z,2027-01-16T08:00:00Z\n\
             '=cmd@example.com,feedback,dsn,2027-01-15T08:00:00Z,\n"
        );
    }
}
