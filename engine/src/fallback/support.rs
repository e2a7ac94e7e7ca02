//! The support queue: held orders a person must resolve, by priority and SLA.

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::{exec_on_pool, on_pool};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct SupportCase {
    pub id: i64,
    pub order_id: i64,
    pub priority: i64,
    pub reason: String,
    pub opened_at: Millis,
    pub due_at: Millis,
    /// `open` or `resolved`.
    pub status: String,
    /// The agent working on it now (others see it).
    pub working_by: Option<String>,
    pub working_since: Option<Millis>,
    pub resolved_at: Option<Millis>,
    pub resolved_by: Option<String>,
    pub resolution_note: Option<String>,
}

const COLUMNS: &str = "id, order_id, priority, reason, opened_at, due_at, status, working_by, working_since, \
    resolved_at, resolved_by, resolution_note";

/// A queue row: the case with what an agent needs to see at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct QueueRow {
    pub case_id: i64,
    pub order_id: i64,
    pub order_number: String,
    pub priority: i64,
    pub reason: String,
    pub opened_at: Millis,
    pub due_at: Millis,
    pub working_by: Option<String>,
    pub account_kind: String,
    pub customer_email: String,
    pub customer_phone: Option<String>,
    /// The customer agreed to messages on WhatsApp.
    pub whatsapp_opt_in: bool,
    pub total_minor: i64,
    pub currency: String,
    pub fallback_why: Option<String>,
    pub reached_at: Option<Millis>,
}

pub fn sla_ms(priority: i64, cfg: &crate::config::FallbackConfig) -> i64 {
    let minutes = if priority <= super::decide::PRIORITY_CRITICAL {
        cfg.critical_sla_minutes
    } else {
        cfg.normal_sla_minutes
    };
    minutes * 60_000
}

pub async fn for_order(db: &Db, order_id: i64) -> Result<Option<SupportCase>> {
    let sql = format!("SELECT {COLUMNS} FROM support_cases WHERE order_id = $1");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(order_id).fetch_optional(p).await)?)
}

/// "Send me a fresh link" ([`crate::links::request_fresh`]); when the order's
/// address is dead, a critical case, so support reaches the customer another way.
pub async fn fresh_link(
    db: &Db,
    now: Millis,
    token: &str,
    ip: &str,
    user_agent: &str,
    cfg: &crate::config::FallbackConfig,
) -> Result<crate::links::FreshLink> {
    let answer = crate::links::request_fresh(db, now, token, ip, user_agent).await?;
    if let crate::links::FreshLink::ToSupport { order_id } = answer {
        open(
            db,
            now,
            order_id,
            super::decide::PRIORITY_CRITICAL,
            "the customer asked for a fresh link but the email address is dead",
            cfg,
        )
        .await?;
    }
    Ok(answer)
}

/// Opens (or re-opens, or raises the priority of) the order's case.
pub async fn open(
    db: &Db,
    now: Millis,
    order_id: i64,
    priority: i64,
    reason: &str,
    cfg: &crate::config::FallbackConfig,
) -> Result<SupportCase> {
    let due = now + sla_ms(priority, cfg);
    match for_order(db, order_id).await? {
        None => {
            exec_on_pool!(db, p => sqlx::query(
                "INSERT INTO support_cases (order_id, priority, reason, opened_at, due_at, status)
                 VALUES ($1, $2, $3, $4, $5, 'open') ON CONFLICT (order_id) DO NOTHING"
            ).bind(order_id).bind(priority).bind(reason).bind(now).bind(due).execute(p).await)?;
        }
        Some(c) if c.status == "resolved" => {
            exec_on_pool!(db, p => sqlx::query(
                "UPDATE support_cases SET status = 'open', priority = $1, reason = $2, opened_at = $3, due_at = $4,
                 resolved_at = NULL, resolved_by = NULL, resolution_note = NULL, working_by = NULL, working_since = NULL
                 WHERE id = $5"
            ).bind(priority).bind(reason).bind(now).bind(due).bind(c.id).execute(p).await)?;
        }
        Some(c) if priority < c.priority => {
            exec_on_pool!(db, p => sqlx::query(
                "UPDATE support_cases SET priority = $1, reason = $2, due_at = $3 WHERE id = $4"
            ).bind(priority).bind(format!("{reason}; {}", c.reason)).bind(due.min(c.due_at)).bind(c.id).execute(p).await)?;
        }
        Some(_) => {}
    }
    crate::orders::add_event(
        db,
        order_id,
        now,
        "support_case",
        &format!("support case (priority {priority}): {reason}"),
    )
    .await?;
    for_order(db, order_id)
        .await?
        .ok_or_else(|| Error::Internal("support case vanished".into()))
}

/// Open cases, most urgent first (priority, then the SLA deadline).
pub async fn queue(db: &Db, limit: i64) -> Result<Vec<QueueRow>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT c.id AS case_id, c.order_id, o.order_number, c.priority, c.reason, c.opened_at, c.due_at,
                c.working_by, o.account_kind, o.customer_email, o.customer_phone, o.whatsapp_opt_in, o.total_minor,
                o.currency, o.fallback_why, o.reached_at
         FROM support_cases c JOIN orders o ON o.id = c.order_id
         WHERE c.status = 'open' ORDER BY c.priority, c.due_at, c.id LIMIT $1"
    ).bind(limit).fetch_all(p).await)?)
}

/// Shows other agents who is on it.
pub async fn start_working(db: &Db, now: Millis, order_id: i64, agent: &str) -> Result<()> {
    exec_on_pool!(db, p => sqlx::query(
        "UPDATE support_cases SET working_by = $1, working_since = $2 WHERE order_id = $3 AND status = 'open'"
    ).bind(agent).bind(now).bind(order_id).execute(p).await)?;
    Ok(())
}

pub async fn resolve(db: &Db, now: Millis, order_id: i64, by: &str, note: &str) -> Result<()> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 2000 {
        return Err(Error::invalid(
            "a resolution note of 1 to 2000 characters is required",
        ));
    }
    let changed = exec_on_pool!(db, p => sqlx::query(
        "UPDATE support_cases SET status = 'resolved', resolved_at = $1, resolved_by = $2, resolution_note = $3,
         working_by = NULL, working_since = NULL WHERE order_id = $4 AND status = 'open'"
    ).bind(now).bind(by).bind(note).bind(order_id).execute(p).await)?;
    if changed == 0 {
        return Err(Error::NotFound(
            "no open support case for this order".into(),
        ));
    }
    crate::orders::add_event(
        db,
        order_id,
        now,
        "support_resolved",
        &format!("resolved by {by}: {note}"),
    )
    .await?;
    Ok(())
}

/// What an agent's phone actions need: where texts and calls go and what the
/// customer's link looks like.
#[derive(Debug, Clone, Copy)]
pub struct PhoneReach<'a> {
    pub provider: &'a crate::sms::SmsProvider,
    /// The shop's name, said in the call and written in the text.
    pub shop_name: &'a str,
    /// The customer-facing base URL the link lives under.
    pub base_url: &'a str,
    /// How long a new link stays valid.
    pub link_ttl_ms: i64,
    /// `shop.default_locale`: the language of an order without `customer.locale`.
    pub default_locale: Option<&'a str>,
}

/// What the call says, in the customer's language (`locale`, BCP 47; the
/// catalogue's `call-message`): who calls, why, and that a text with the link
/// follows (it does: [`call_and_text`] sends it right after starting the call).
pub fn call_message(locale: &str, shop_name: &str, order_number: &str) -> String {
    crate::i18n::text(
        locale,
        "call-message",
        &[("shop", shop_name), ("order", order_number)],
    )
}

/// The text with the secure link, in the customer's language (`sms-link`).
pub fn sms_link_body(locale: &str, shop_name: &str, order_number: &str, url: &str) -> String {
    crate::i18n::text(
        locale,
        "sms-link",
        &[("shop", shop_name), ("order", order_number), ("url", url)],
    )
}

/// The language of an order's texts and calls: its `customer.locale`, else
/// the shop's `shop.default_locale`, else English.
fn lang_of(order: &crate::orders::Order, reach: &PhoneReach<'_>) -> crate::i18n::Lang {
    crate::i18n::resolve(order.customer_locale.as_deref(), reach.default_locale, None)
}

/// Texts the customer a new secure link to the receipt, to the phone on the
/// order. Earlier links keep working (revoking is the agent's explicit
/// "regenerate"). Returns the stored message.
pub async fn text_link(
    db: &Db,
    now: Millis,
    order: &crate::orders::Order,
    reach: &PhoneReach<'_>,
    by: &str,
) -> Result<crate::sms::SmsRecord> {
    let phone = order
        .customer_phone
        .as_deref()
        .ok_or_else(|| Error::Conflict("There is no phone number on this order.".into()))?;
    let issued = crate::links::issue(db, now, order, "sms", by, reach.link_ttl_ms).await?;
    let body = sms_link_body(
        &lang_of(order, reach).tag(),
        reach.shop_name,
        &order.order_number,
        &issued.url(reach.base_url),
    );
    reach
        .provider
        .send_sms(db, now, Some(order.id), phone, &body, by)
        .await
}

/// Calls the customer and, once the call is started, texts the secure link
/// the call promises, so no call ends with a promise and no text. The agent
/// is put on the case. A failed call sends no text; a text that fails after
/// the call started is an error that says so.
pub async fn call_and_text(
    db: &Db,
    now: Millis,
    order: &crate::orders::Order,
    reach: &PhoneReach<'_>,
    by: &str,
) -> Result<(crate::sms::SmsRecord, crate::sms::SmsRecord)> {
    let phone = order
        .customer_phone
        .as_deref()
        .ok_or_else(|| Error::Conflict("There is no phone number on this order.".into()))?;
    let lang = lang_of(order, reach);
    let message = call_message(&lang.tag(), reach.shop_name, &order.order_number);
    let call = reach
        .provider
        .start_call(db, now, Some(order.id), phone, &message, &lang, by)
        .await?;
    start_working(db, now, order.id, by).await?;
    let text = text_link(db, now, order, reach, by).await.map_err(|e| match e {
        Error::Invalid(m) | Error::Conflict(m) => Error::Conflict(format!(
            "The call was started, but the text with the link could not be sent: {m}. Send it again with \"Text the link\"."
        )),
        other => other,
    })?;
    Ok((call, text))
}
