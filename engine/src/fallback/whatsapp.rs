//! The fallback's WhatsApp link (`sms::whatsapp` sends it): when it cannot be
//! sent, or Twilio reports it `failed` or `undelivered` before the customer
//! was reached another way, the order goes to support as critical.

use crate::clock::Millis;
use crate::config::Config;
use crate::db::Db;
use crate::error::Result;
use crate::exec_on_pool;
use crate::orders::Order;
use crate::sms::SmsRecord;
use crate::sms::whatsapp::{self, FallbackLink};

/// The automatic fallback's WhatsApp message: a new secure link for a held
/// order whose customer opted in. Sent once per order (a decision taken over
/// after a crash finds the earlier row and sends nothing). When it cannot be
/// sent, the order goes to support as critical. Returns the row it sent.
pub async fn send_fallback_link(
    db: &Db,
    now: Millis,
    cfg: &Config,
    order: &Order,
) -> Result<Option<SmsRecord>> {
    match whatsapp::try_fallback_link(db, now, cfg, order).await? {
        FallbackLink::Sent(row) => Ok(Some(*row)),
        FallbackLink::Skipped => Ok(None),
        FallbackLink::Failed(why) => {
            escalate(db, now, cfg, order.id, &why).await?;
            Ok(None)
        }
    }
}

/// After a status callback: a fallback WhatsApp message that Twilio reports
/// `failed` or `undelivered` sends its order to support as critical, unless
/// the customer was reached another way.
pub async fn after_status(db: &Db, now: Millis, cfg: &Config, row: &SmsRecord) -> Result<()> {
    match whatsapp::failed_fallback(db, row).await? {
        Some((order_id, why)) => escalate(db, now, cfg, order_id, &why).await,
        None => Ok(()),
    }
}

async fn escalate(db: &Db, now: Millis, cfg: &Config, order_id: i64, why: &str) -> Result<()> {
    crate::orders::add_event(db, order_id, now, "whatsapp_failed", why).await?;
    super::support::open(
        db,
        now,
        order_id,
        super::decide::PRIORITY_CRITICAL,
        &format!("the WhatsApp link failed: {why}"),
        &cfg.fallback,
    )
    .await?;
    exec_on_pool!(db, p => sqlx::query(
        "UPDATE orders SET fallback_path = 'critical', fallback_why = COALESCE(fallback_why, '') || $1 WHERE id = $2"
    ).bind("; WhatsApp link failed, sent to support").bind(order_id).execute(p).await)?;
    Ok(())
}
