//! The development outbox: messages the capture transport kept instead of
//! sending, readable on the Outbox page like Mailpit shows them.

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::db::Db;
use crate::error::Result;
use crate::on_pool;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct CapturedSummary {
    pub id: i64,
    pub pool_id: i64,
    pub order_id: Option<i64>,
    pub message_id: String,
    pub envelope_to: String,
    pub subject: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Captured {
    pub id: i64,
    pub pool_id: i64,
    pub order_id: Option<i64>,
    pub message_id: String,
    pub envelope_from: String,
    pub envelope_to: String,
    pub subject: String,
    pub raw: String,
    pub created_at: Millis,
}

/// A captured message taken apart for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapturedParts {
    pub headers: Vec<(String, String)>,
    pub html: Option<String>,
    pub text: Option<String>,
}

pub async fn list(db: &Db, before_id: Option<i64>, limit: i64) -> Result<Vec<CapturedSummary>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT id, pool_id, order_id, message_id, envelope_to, subject, created_at FROM outbox
         WHERE id < $1 ORDER BY id DESC LIMIT $2"
    ).bind(before_id.unwrap_or(i64::MAX)).bind(limit.clamp(1, 200)).fetch_all(p).await)?)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Captured>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT id, pool_id, order_id, message_id, envelope_from, envelope_to, subject, raw, created_at
         FROM outbox WHERE id = $1"
    ).bind(id).fetch_optional(p).await)?)
}

/// Splits a raw message into headers and its HTML and text bodies.
pub fn parts(raw: &str) -> CapturedParts {
    let Some(msg) = mail_parser::MessageParser::default().parse(raw.as_bytes()) else {
        return CapturedParts {
            headers: Vec::new(),
            html: None,
            text: Some(raw.to_string()),
        };
    };
    let headers = msg
        .headers()
        .iter()
        .map(|h| {
            let value = msg
                .header_raw(h.name.as_str())
                .map(|v| v.trim().to_string())
                .unwrap_or_default();
            (h.name.as_str().to_string(), value)
        })
        .collect();
    CapturedParts {
        headers,
        html: msg.body_html(0).map(|c| c.into_owned()),
        text: msg.body_text(0).map(|c| c.into_owned()),
    }
}
