//! The masked-link fallback: a fresh secure link re-sent through the masked
//! pool (or one an agent chose), run as a `masked_link` job by the delivery
//! worker so it shares its pools, leases and crash safety. If that fails too,
//! the order goes to support as critical.

use crate::bounce::{BounceClass, SmtpReply};
use crate::clock::Millis;
use crate::delivery::attempts::{self, Attempt, AttemptOutcome, MASKED_ATTEMPT_BASE};
use crate::delivery::pools::{PoolRole, SenderPool};
use crate::delivery::queue::{DEFER_SQL, Job};
use crate::delivery::smtp::SendOutcome;
use crate::delivery::worker::Worker;
use crate::error::{Error, Result};
use crate::orders::{self, Order};
use crate::{exec_on_pool, on_pool};

/// What became of one masked re-send.
enum Resent {
    /// The relay took it (or the development outbox captured it).
    Sent,
    /// It failed: the order goes to support.
    Failed(String),
    /// The connection broke after the final dot: the relay may have it. Not
    /// sent, not failed: the same attempt goes again at `due_at`, with the
    /// same Message-ID, as an unknown receipt send does.
    Again { due_at: Millis },
}

impl Worker {
    /// The fallback re-send: a fresh secure link through the masked pool. If
    /// that fails too, the order goes to support as critical.
    pub(crate) async fn process_masked(&self, job: Job, pools: &[SenderPool]) -> Result<()> {
        let db = &self.db;
        let Some(order) = orders::get(db, job.order_id).await? else {
            return self.finish_job(&job).await;
        };
        let attempt_no = MASKED_ATTEMPT_BASE + job.attempt_no;
        // An unknown outcome is not done: that attempt goes again.
        let done_before = attempts::attempts(db, order.id)
            .await?
            .into_iter()
            .any(|a| {
                a.attempt_no == attempt_no
                    && a.outcome.is_some_and(|o| o != AttemptOutcome::Unknown)
            });
        // The automatic re-send is skipped once the customer has the receipt;
        // a fresh link they asked for (attempt 2 on) is always sent.
        if (order.reached_at.is_some() && job.attempt_no == 1) || done_before {
            return self.finish_job(&job).await;
        }
        let now = self.clock.now_ms();
        // An agent may have chosen the pool; otherwise the masked pool.
        let masked = match job.pool_id {
            Some(id) => pools.iter().find(|p| p.enabled && p.id == id),
            None => pools
                .iter()
                .find(|p| p.enabled && p.role == PoolRole::Masked),
        };
        let suppressed = crate::suppression::active(db, now, &order.customer_email).await?;
        let failure = match (masked, suppressed) {
            (_, Some(s)) => Some(format!("the address is suppressed ({})", s.reason)),
            (None, _) if job.pool_id.is_some() => {
                Some("the chosen sender pool is gone or disabled".to_string())
            }
            (None, _) => Some("no enabled masked sender pool".to_string()),
            (Some(pool), None) => match self.send_masked(&order, &job, attempt_no, pool).await? {
                Resent::Sent => None,
                Resent::Failed(why) => Some(why),
                Resent::Again { due_at } => {
                    exec_on_pool!(db, p => sqlx::query(DEFER_SQL).bind(job.id).bind(&self.id)
                        .bind(due_at).execute(p).await)?;
                    return Ok(());
                }
            },
        };
        if let Some(why) = failure {
            let now = self.clock.now_ms();
            orders::add_event(db, order.id, now, "masked_resend_failed", &why).await?;
            crate::fallback::support::open(
                db,
                now,
                order.id,
                crate::fallback::decide::PRIORITY_CRITICAL,
                &format!("the masked re-send also failed: {why}"),
                &self.config.fallback,
            )
            .await?;
            exec_on_pool!(db, p => sqlx::query(
                "UPDATE orders SET fallback_path = 'critical', fallback_why = COALESCE(fallback_why, '') || $1 WHERE id = $2"
            ).bind("; masked re-send failed, sent to support").bind(order.id).execute(p).await)?;
        }
        self.finish_job(&job).await
    }

    /// Sends the link through `pool` and records the attempt's outcome: sent,
    /// failed (why; then the order goes to support), or unknown (again later).
    async fn send_masked(
        &self,
        order: &Order,
        job: &Job,
        attempt_no: i64,
        pool: &SenderPool,
    ) -> Result<Resent> {
        let db = &self.db;
        let masked_job = Job {
            attempt_no,
            ..job.clone()
        };
        let attempt = self.start_attempt(order, &masked_job, pool).await?;
        let outcome = self.send_link(order, pool, &attempt).await;
        let now = self.clock.now_ms();
        let mut again = None;
        let (outcome_text, code, text, class, failure) = match outcome {
            Ok(SendOutcome::Accepted { response }) => (
                "accepted",
                Some(i64::from(response.code)),
                response.text,
                "delivered".to_string(),
                None,
            ),
            Ok(SendOutcome::Captured) => (
                "accepted",
                Some(250),
                "captured (development outbox)".to_string(),
                "delivered".to_string(),
                None,
            ),
            Ok(SendOutcome::Rejected {
                response,
                permanent,
                ..
            }) => {
                let reply = SmtpReply::parse(&format!("{} {}", response.code, response.text));
                let verdict = self.classifier.classify(&reply, None);
                let why = format!(
                    "masked re-send refused by {}: {} {} ({})",
                    pool.name,
                    response.code,
                    response.text,
                    verdict.reason.as_str()
                );
                if permanent && verdict.class == BounceClass::RecipientPermanent {
                    crate::suppression::suppress(
                        db,
                        now,
                        &order.customer_email,
                        verdict.reason.as_str(),
                        "smtp",
                        None,
                    )
                    .await?;
                }
                (
                    if permanent { "rejected" } else { "deferred" },
                    Some(i64::from(response.code)),
                    response.text,
                    verdict.class.as_str().to_string(),
                    Some(why),
                )
            }
            // The relay may have it: neither sent nor failed. The same attempt
            // goes again later with the same Message-ID, on the receipts'
            // schedule; when that is used up, support takes over.
            Ok(SendOutcome::Unknown { detail }) => {
                let unknowns = attempt.unknowns + 1;
                again = self
                    .policy
                    .delay_after(unknowns)
                    .map(|d| (now + d, detail.clone()));
                let failure = again.is_none().then(|| {
                    format!(
                        "masked re-send through {}: outcome unknown {unknowns} times, never confirmed ({detail})",
                        pool.name
                    )
                });
                (
                    "unknown",
                    None,
                    detail,
                    BounceClass::Transient.as_str().to_string(),
                    failure,
                )
            }
            Ok(SendOutcome::NotSent { detail } | SendOutcome::Failed { detail, .. }) => (
                "failed",
                None,
                detail.clone(),
                BounceClass::Transient.as_str().to_string(),
                Some(format!(
                    "masked re-send through {} failed: {detail}",
                    pool.name
                )),
            ),
            Err(e) => (
                "failed",
                None,
                e.to_string(),
                BounceClass::Content.as_str().to_string(),
                Some(format!("masked re-send could not be built: {e}")),
            ),
        };
        crate::metrics::send(&pool.name, outcome_text);
        if matches!(outcome_text, "rejected" | "deferred") {
            crate::metrics::bounce(&class);
        }
        exec_on_pool!(db, p => sqlx::query(
            "UPDATE delivery_attempts SET finished_at = $1, outcome = $2, smtp_code = $3, smtp_text = $4, class = $5,
                 unknowns = unknowns + CASE WHEN $2 = 'unknown' THEN 1 ELSE 0 END
             WHERE id = $6"
        ).bind(now).bind(outcome_text).bind(code).bind(&text).bind(&class).bind(attempt.id).execute(p).await)?;
        if let Some((due_at, detail)) = again {
            let note = format!(
                "masked re-send: outcome unknown at {}: {detail} (the relay may have the message); \
                 re-sending with the same Message-ID {}",
                pool.name,
                crate::clock::format_utc(due_at)
            );
            orders::add_event(db, order.id, now, "masked_resend_unknown", &note).await?;
            return Ok(Resent::Again { due_at });
        }
        if let Some(why) = failure {
            return Ok(Resent::Failed(why));
        }
        orders::add_event(
            db,
            order.id,
            now,
            "masked_resend",
            &if job.pool_id.is_some() {
                format!(
                    "secure link re-sent through the pool {} (chosen by an agent)",
                    pool.name
                )
            } else {
                format!("secure link re-sent through the masked pool {}", pool.name)
            },
        )
        .await?;
        Ok(Resent::Sent)
    }

    /// Builds and sends the secure-link message for a masked re-send.
    async fn send_link(
        &self,
        order: &Order,
        pool: &SenderPool,
        attempt: &Attempt,
    ) -> Result<SendOutcome> {
        let now = self.clock.now_ms();
        let issued = crate::links::issue(
            &self.db,
            now,
            order,
            "masked_email",
            "fallback",
            self.config.links.ttl_ms(),
        )
        .await?;
        let lang = crate::i18n::Lang::for_customer(
            order.customer_locale.as_deref(),
            self.config.shop.default_locale.as_deref(),
        );
        let msg = crate::receipt::LinkMessage {
            lang: lang.tag(),
            shop_name: self.branding.shop_name.clone(),
            customer_name: order.customer_name.clone(),
            order_number: order.order_number.clone(),
            url: issued.url(&self.config.public_base_url()),
            expires: lang.date_time(issued.link.expires_at, &self.config.shop.time_zone),
            support_email: self.branding.support_email.clone(),
            footer: self.branding.footer_text.clone(),
        };
        let (html, text) = self
            .renderer
            .render_link(&msg)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let subject = lang.t("link-subject", &[("order", &order.order_number)]);
        self.send_raw(order, pool, attempt, &subject, &html, &text, "link")
            .await
    }

    /// Records a masked re-send's attempt before sending (same Message-ID if
    /// it is a re-run). A masked re-send leaves the order's state alone.
    async fn start_attempt(&self, order: &Order, job: &Job, pool: &SenderPool) -> Result<Attempt> {
        let now = self.clock.now_ms();
        let (message_id, token) =
            attempts::new_message_id(order.id, job.attempt_no, &self.bounce_domain);
        let row = crate::db::json_param(&[(
            order.id,
            job.attempt_no,
            pool.id,
            message_id,
            token,
            "masked_link",
        )])?;
        let attempt: Attempt = on_pool!(&self.db, p => sqlx::query_as(&self.attempt_sql.start)
            .bind(now).bind(&row).fetch_one(p).await)?;
        Ok(attempt)
    }
}
