//! What the webhook pipeline remembers: the provider events already applied (so a retried
//! request stores nothing twice) and the event kinds a provider posted that Rebound does not
//! know (counted, shown on the admin webhooks page).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{EventKind, Provider};
use crate::clock::Millis;
use crate::db::Db;
use crate::error::Result;
use crate::{exec_on_pool, on_pool};

/// How long an applied event is remembered: longer than any provider retries (SendGrid 72 h,
/// Mailgun 8 h, Postmark about 12 h, SNS 23 days only for a failing endpoint's backoff
/// policy, which a working endpoint never reaches).
pub const REMEMBER_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// The stored key of a provider's event id: its SHA-256, as ids may name the recipient.
pub fn event_key(event_id: &str) -> String {
    hex::encode(Sha256::digest(event_id.as_bytes()))
}

/// Records an event as applied; false when it was applied before (a repeat).
pub async fn claim(
    db: &Db,
    now: Millis,
    provider: Provider,
    key: &str,
    kind: EventKind,
    hard: bool,
) -> Result<bool> {
    let n = exec_on_pool!(db, p => sqlx::query(
        "INSERT INTO esp_events (provider, event_key, kind, hard, received_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (provider, event_key) DO NOTHING"
    ).bind(provider.as_str()).bind(key).bind(kind.as_str()).bind(hard).bind(now).execute(p).await)?;
    Ok(n == 1)
}

/// Forgets claims whose events could not be applied, so the provider's retry applies them.
pub async fn release(db: &Db, provider: Provider, keys: &[String]) -> Result<()> {
    for key in keys {
        exec_on_pool!(db, p => sqlx::query(
            "DELETE FROM esp_events WHERE provider = $1 AND event_key = $2"
        ).bind(provider.as_str()).bind(key).execute(p).await)?;
    }
    Ok(())
}

/// Forgets events applied before `before`; returns how many.
pub async fn forget_before(db: &Db, before: Millis) -> Result<u64> {
    Ok(exec_on_pool!(db, p => sqlx::query(
        "DELETE FROM esp_events WHERE received_at < $1"
    ).bind(before).execute(p).await)?)
}

/// One stored event, as the tests and the operator see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct AppliedEvent {
    pub provider: String,
    pub event_key: String,
    pub kind: String,
    pub hard: bool,
    pub received_at: Millis,
}

/// Events applied for `provider`, oldest first.
pub async fn applied(db: &Db, provider: Provider) -> Result<Vec<AppliedEvent>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT provider, event_key, kind, hard, received_at FROM esp_events
         WHERE provider = $1 ORDER BY received_at, event_key"
    ).bind(provider.as_str()).fetch_all(p).await)?)
}

/// Counts one event of a kind the provider's normaliser does not know.
pub async fn count_unknown(db: &Db, now: Millis, provider: Provider, kind: &str) -> Result<()> {
    exec_on_pool!(db, p => sqlx::query(
        "INSERT INTO esp_unknown_events (provider, kind, seen, first_at, last_at)
         VALUES ($1, $2, 1, $3, $3)
         ON CONFLICT (provider, kind) DO UPDATE
         SET seen = esp_unknown_events.seen + 1, last_at = $3"
    ).bind(provider.as_str()).bind(kind).bind(now).execute(p).await)?;
    Ok(())
}

/// Unknown event kinds seen for one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct UnknownKind {
    pub provider: String,
    pub kind: String,
    pub seen: i64,
    pub first_at: Millis,
    pub last_at: Millis,
}

/// Every unknown event kind seen, by provider and kind.
pub async fn unknown_kinds(db: &Db) -> Result<Vec<UnknownKind>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT provider, kind, seen, first_at, last_at FROM esp_unknown_events
         ORDER BY provider, kind"
    ).fetch_all(p).await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_event_is_claimed_once_and_unknown_kinds_are_counted() {
        for t in crate::testing::all_backends().await {
            let db = &t.db;
            let k = event_key("sg-1");
            assert_eq!(k.len(), 64);
            assert!(
                claim(db, 10, Provider::SendGrid, &k, EventKind::Bounce, true)
                    .await
                    .expect("claim")
            );
            assert!(
                !claim(db, 11, Provider::SendGrid, &k, EventKind::Bounce, true)
                    .await
                    .expect("again")
            );
            assert!(
                claim(db, 12, Provider::Mailgun, &k, EventKind::Bounce, false)
                    .await
                    .expect("other provider"),
                "keys are per provider"
            );
            let rows = applied(db, Provider::SendGrid).await.expect("rows");
            assert_eq!(
                (rows.len(), rows[0].kind.as_str(), rows[0].hard),
                (1, "bounced", true)
            );
            release(db, Provider::SendGrid, std::slice::from_ref(&k))
                .await
                .expect("release");
            assert!(
                claim(db, 13, Provider::SendGrid, &k, EventKind::Bounce, true)
                    .await
                    .expect("after release")
            );
            assert_eq!(
                forget_before(db, 13).await.expect("forget"),
                1,
                "the Mailgun row at 12"
            );

            count_unknown(db, 20, Provider::Brevo, "teleported")
                .await
                .expect("count");
            count_unknown(db, 25, Provider::Brevo, "teleported")
                .await
                .expect("count");
            count_unknown(db, 30, Provider::Ses, "Teleport")
                .await
                .expect("count");
            let u = unknown_kinds(db).await.expect("kinds");
            assert_eq!(
                u.iter()
                    .map(|r| (
                        r.provider.as_str(),
                        r.kind.as_str(),
                        r.seen,
                        r.first_at,
                        r.last_at
                    ))
                    .collect::<Vec<_>>(),
                vec![
                    ("brevo", "teleported", 2, 20, 25),
                    ("ses", "Teleport", 1, 30, 30)
                ]
            );
            t.cleanup().await;
        }
    }
}
