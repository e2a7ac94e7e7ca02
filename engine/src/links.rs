//! Secure receipt links (`/r/{token}`): 256-bit random tokens, stored only as
//! a SHA-256 hash, bound to one order and one email, expiring, revocable.
//! Regenerating revokes every earlier link of the order. Every use is logged
//! with an IP prefix (never the full address) and the user agent.

use base64::Engine as _;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Millis;
use crate::db::Db;
use crate::error::Result;
use crate::orders::Order;
use crate::{exec_on_pool, on_pool};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ReceiptLink {
    pub id: i64,
    pub order_id: i64,
    pub email: String,
    /// How the link went out: `masked_email`, `sms`, `agent`, `fresh_request`,
    /// `checkout` (high-risk guest orders, in the intake answer).
    pub channel: String,
    pub created_at: Millis,
    pub created_by: String,
    pub expires_at: Millis,
    pub revoked_at: Option<Millis>,
}

const COLUMNS: &str =
    "id, order_id, email, channel, created_at, created_by, expires_at, revoked_at";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct LinkUse {
    pub id: i64,
    pub link_id: i64,
    pub at: Millis,
    /// `open`, `pdf` or `fresh_request`.
    pub action: String,
    pub ip_prefix: String,
    pub user_agent: String,
}

/// A link just issued: the token exists only here and in the message sent.
#[derive(Debug, Clone)]
pub struct IssuedLink {
    pub link: ReceiptLink,
    pub token: String,
}

impl IssuedLink {
    /// The customer-facing URL under `base` (`https://receipts.shop.example`).
    pub fn url(&self, base: &str) -> String {
        format!("{}/r/{}", base.trim_end_matches('/'), self.token)
    }
}

/// What a presented token turns out to be.
#[derive(Debug, Clone)]
pub enum Lookup {
    Valid {
        link: ReceiptLink,
        order: Box<Order>,
    },
    /// Known but expired or revoked: the page offers a fresh link.
    Stale { link: ReceiptLink },
    /// Not ours. Shown exactly like `Stale` so tokens cannot be probed.
    Unknown,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Tokens are 43 URL-safe characters; anything else is not worth a query.
pub fn looks_like_token(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Issues a new link for `order`, bound to the order's email.
pub async fn issue(
    db: &Db,
    now: Millis,
    order: &Order,
    channel: &str,
    created_by: &str,
    ttl_ms: i64,
) -> Result<IssuedLink> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let sql = format!(
        "INSERT INTO receipt_links (order_id, token_hash, email, channel, created_at, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    );
    let link: ReceiptLink = on_pool!(db, p => sqlx::query_as(&sql)
        .bind(order.id).bind(hash_token(&token)).bind(&order.customer_email).bind(channel)
        .bind(now).bind(created_by).bind(now + ttl_ms)
        .fetch_one(p).await)?;
    crate::orders::add_event(
        db,
        order.id,
        now,
        "link_issued",
        &format!(
            "secure link #{} issued ({channel}, by {created_by}), valid until {}",
            link.id,
            crate::clock::format_utc(link.expires_at)
        ),
    )
    .await?;
    Ok(IssuedLink { link, token })
}

/// The link a high-risk order without an account gets at checkout (guests and
/// social logins; logged-in customers get an account notification instead,
/// in `orders::intake_assessed`), so the receipt is reachable before email
/// can fail. `None` for any other order.
pub async fn issue_at_checkout(
    db: &Db,
    now: Millis,
    order: &Order,
    ttl_ms: i64,
) -> Result<Option<IssuedLink>> {
    if !order.inline_receipt || order.account_kind == "logged_in" {
        return Ok(None);
    }
    issue(db, now, order, "checkout", "intake", ttl_ms)
        .await
        .map(Some)
}

/// Revokes every live link of the order; returns how many.
pub async fn revoke_all(db: &Db, now: Millis, order_id: i64) -> Result<u64> {
    Ok(exec_on_pool!(db, p => sqlx::query(
        "UPDATE receipt_links SET revoked_at = $1 WHERE order_id = $2 AND revoked_at IS NULL"
    ).bind(now).bind(order_id).execute(p).await)?)
}

/// The agent's "regenerate": every earlier link stops working, a new one is issued.
pub async fn regenerate(
    db: &Db,
    now: Millis,
    order: &Order,
    channel: &str,
    created_by: &str,
    ttl_ms: i64,
) -> Result<IssuedLink> {
    let revoked = revoke_all(db, now, order.id).await?;
    if revoked > 0 {
        crate::orders::add_event(
            db,
            order.id,
            now,
            "links_revoked",
            &format!("{revoked} earlier link(s) revoked by {created_by}"),
        )
        .await?;
    }
    issue(db, now, order, channel, created_by, ttl_ms).await
}

/// Resolves a presented token. A link only ever shows the order it was
/// issued for, and only while the order's email is still the one it was
/// bound to.
pub async fn lookup(db: &Db, now: Millis, token: &str) -> Result<Lookup> {
    if !looks_like_token(token) {
        return Ok(Lookup::Unknown);
    }
    let sql = format!("SELECT {COLUMNS} FROM receipt_links WHERE token_hash = $1");
    let link: Option<ReceiptLink> =
        on_pool!(db, p => sqlx::query_as(&sql).bind(hash_token(token)).fetch_optional(p).await)?;
    let Some(link) = link else {
        return Ok(Lookup::Unknown);
    };
    if link.revoked_at.is_some() || link.expires_at <= now {
        return Ok(Lookup::Stale { link });
    }
    match crate::orders::get(db, link.order_id).await? {
        Some(order) if order.customer_email.eq_ignore_ascii_case(&link.email) => {
            Ok(Lookup::Valid {
                link,
                order: Box::new(order),
            })
        }
        _ => Ok(Lookup::Stale { link }),
    }
}

/// Logs one use of a link.
pub async fn record_use(
    db: &Db,
    now: Millis,
    link_id: i64,
    action: &str,
    ip: &str,
    user_agent: &str,
) -> Result<()> {
    let ua: String = user_agent.chars().take(300).collect();
    exec_on_pool!(db, p => sqlx::query(
        "INSERT INTO link_uses (link_id, at, action, ip_prefix, user_agent) VALUES ($1, $2, $3, $4, $5)"
    ).bind(link_id).bind(now).bind(action).bind(ip_prefix(ip)).bind(ua).execute(p).await)?;
    Ok(())
}

/// Counts a request against the per-IP and per-token limits; `false` when
/// either is exceeded.
pub async fn within_limits(
    db: &Db,
    now: Millis,
    ip: &str,
    token: &str,
    cfg: &crate::config::LinksConfig,
) -> Result<bool> {
    const MINUTE: i64 = 60_000;
    let by_ip = crate::ratelimit::allow(
        db,
        now,
        &format!("link-ip:{ip}"),
        cfg.per_ip_per_minute,
        MINUTE,
    )
    .await?;
    // Keyed by a hash prefix: the token itself is never stored.
    let key = format!("link-token:{}", &hash_token(token)[..32]);
    let by_token = crate::ratelimit::allow(db, now, &key, cfg.per_token_per_minute, MINUTE).await?;
    Ok(by_ip && by_token)
}

/// What a "send me a fresh link" request did (never shown to the requester,
/// who always sees the same answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FreshLink {
    /// A masked re-send with a new link is queued to the order's own email.
    Queued,
    /// The order's address is dead: support must be asked to reach the customer
    /// (the caller opens the case: `fallback::support::fresh_link`).
    ToSupport {
        /// The order whose customer asked.
        order_id: i64,
    },
    /// Too many requests for this link, or the token is not ours: nothing done.
    Ignored,
}

/// "Send me a fresh link": only ever to the email (or, through support, the
/// phone) on the order, never to an address the requester typed. A dead
/// address is answered [`FreshLink::ToSupport`]: the support case is the
/// caller's to open.
pub async fn request_fresh(
    db: &Db,
    now: Millis,
    token: &str,
    ip: &str,
    user_agent: &str,
) -> Result<FreshLink> {
    let link = match lookup(db, now, token).await? {
        Lookup::Valid { link, .. } | Lookup::Stale { link } => link,
        Lookup::Unknown => return Ok(FreshLink::Ignored),
    };
    // At most 3 fresh links per link per hour.
    if !crate::ratelimit::allow(db, now, &format!("fresh:{}", link.id), 3, 3_600_000).await? {
        return Ok(FreshLink::Ignored);
    }
    record_use(db, now, link.id, "fresh_request", ip, user_agent).await?;
    let Some(order) = crate::orders::get(db, link.order_id).await? else {
        return Ok(FreshLink::Ignored);
    };
    if crate::suppression::active(db, now, &order.customer_email)
        .await?
        .is_some()
    {
        return Ok(FreshLink::ToSupport { order_id: order.id });
    }
    queue_masked_resend(db, now, order.id).await?;
    crate::orders::add_event(
        db,
        order.id,
        now,
        "fresh_link_requested",
        "the customer asked for a fresh link; a new one is queued to the order's email",
    )
    .await?;
    Ok(FreshLink::Queued)
}

/// Queues one more masked re-send of a fresh link to the order's own email
/// (the delivery worker mints the link when it sends).
pub async fn queue_masked_resend(db: &Db, now: Millis, order_id: i64) -> Result<()> {
    queue_resend(db, now, order_id, None).await
}

/// Queues a re-send of a fresh link to the order's own email through `pool_id`
/// (an agent's choice from the held queue), or through the masked pool when
/// `None`. The delivery worker mints the link when it sends.
pub async fn queue_resend(db: &Db, now: Millis, order_id: i64, pool_id: Option<i64>) -> Result<()> {
    let next: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COALESCE(MAX(attempt_no), 0) + 1 FROM jobs WHERE order_id = $1 AND kind = 'masked_link'"
    ).bind(order_id).fetch_one(p).await)?;
    exec_on_pool!(db, p => sqlx::query(
        "INSERT INTO jobs (kind, order_id, attempt_no, due_at, state, created_at, pool_id)
         VALUES ('masked_link', $1, $2, $3, 'queued', $3, $4) ON CONFLICT DO NOTHING"
    ).bind(order_id).bind(next).bind(now).bind(pool_id).execute(p).await)?;
    Ok(())
}

pub async fn for_order(db: &Db, order_id: i64) -> Result<Vec<ReceiptLink>> {
    let sql = format!("SELECT {COLUMNS} FROM receipt_links WHERE order_id = $1 ORDER BY id");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(order_id).fetch_all(p).await)?)
}

pub async fn uses_for_order(db: &Db, order_id: i64) -> Result<Vec<LinkUse>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT u.id, u.link_id, u.at, u.action, u.ip_prefix, u.user_agent FROM link_uses u
         JOIN receipt_links l ON l.id = u.link_id WHERE l.order_id = $1 ORDER BY u.id"
    ).bind(order_id).fetch_all(p).await)?)
}

/// The network part of an address: /24 for IPv4, /48 for IPv6.
pub fn ip_prefix(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
        Err(_) => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_prefixes_hide_the_host() {
        assert_eq!(ip_prefix("203.0.113.77"), "203.0.113.0/24");
        assert_eq!(ip_prefix("2001:db8:abcd:12::1"), "2001:db8:abcd::/48");
        assert_eq!(ip_prefix("nonsense"), "unknown");
    }

    #[test]
    fn token_shape() {
        assert!(looks_like_token(&"a".repeat(43)));
        assert!(!looks_like_token(&"a".repeat(42)));
        assert!(!looks_like_token(&format!("{}/", "a".repeat(42))));
    }
}
