//! The development provider: every SMS and call is stored with status
//! `captured` and shown on the Outbox page. Nothing leaves the machine.

use super::{NewRow, SmsRecord, insert};
use crate::clock::Millis;
use crate::db::Db;
use crate::error::Result;

pub const PROVIDER: &str = "capture";

pub(crate) async fn store(
    db: &Db,
    now: Millis,
    order_id: Option<i64>,
    kind: &str,
    to: &str,
    body: &str,
    requested_by: &str,
) -> Result<SmsRecord> {
    insert(
        db,
        NewRow {
            now,
            order_id,
            kind,
            to,
            body,
            provider: PROVIDER,
            status: "captured",
            requested_by,
        },
    )
    .await
}
