//! What an agent did to an order, written once: the audit entry (who, from
//! where) and the event on the order's timeline ("Taken by Sara"), in one
//! transaction. An action that is database work only (taking a case,
//! resolving it, a call that reached the customer) commits in that same
//! transaction; one that calls out first (a text, a call, an e-mail sent)
//! writes its record right after with [`record`].

use crate::audit::Actor;
use crate::clock::Millis;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::on_pool;

use super::Order;

/// The agent acting: the audit log's actor and the name the timeline shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub actor: Actor,
    /// Shown on the order's timeline ("Taken by Sara").
    pub name: String,
}

/// One order event: `$1` order id, `$2` at, `$3` kind, `$4` detail.
pub(crate) const EVENT_SQL: &str =
    "INSERT INTO order_events (order_id, at, kind, detail) VALUES ($1, $2, $3, $4)";

/// Writes an agent's action on an order (`in_tx!(tx, now, agent, order,
/// action, detail)`, inside an `on_pool!` arm) in the transaction `$tx` of
/// the change it records: the audit entry `action` on the order number with
/// `detail`, and the timeline event (kind `agent`) in words.
macro_rules! in_tx {
    ($tx:expr, $at:expr, $agent:expr, $order:expr, $action:expr, $detail:expr) => {
        async {
            $crate::audit::in_tx!(
                $tx,
                $at,
                &$agent.actor,
                $action,
                &$order.order_number,
                $detail
            )?;
            sqlx::query($crate::orders::agent_log::EVENT_SQL)
                .bind($order.id)
                .bind($at)
                .bind("agent")
                .bind($crate::orders::agent_log::event_words(
                    $action,
                    &$agent.name,
                    $detail,
                ))
                .execute(&mut *$tx)
                .await
        }
        .await
    };
}
pub(crate) use in_tx;

/// Records an action already done (a text, a call or an e-mail that went
/// out): its audit entry and timeline event, together.
pub async fn record(
    db: &Db,
    now: Millis,
    agent: &Agent,
    order: &Order,
    action: &str,
    detail: &str,
) -> Result<()> {
    on_pool!(db, p => {
        let mut tx = p.begin().await?;
        in_tx!(tx, now, agent, order, action, detail)?;
        tx.commit().await?;
    });
    Ok(())
}

/// "I'm on it": the order's open case shows the agent (`working_by`, their
/// e-mail) to the others; audited as `support.take`. Without an open case
/// nothing changes but the record.
pub async fn take_by(db: &Db, now: Millis, agent: &Agent, order: &Order) -> Result<()> {
    on_pool!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query(
            "UPDATE support_cases SET working_by = $1, working_since = $2 WHERE order_id = $3 AND status = 'open'"
        ).bind(&agent.actor.name).bind(now).bind(order.id).execute(&mut *tx).await?;
        in_tx!(tx, now, agent, order, "support.take", "")?;
        tx.commit().await?;
    });
    Ok(())
}

/// Closes the order's open case with `note` (1 to 2000 characters), resolved
/// by the agent's e-mail; audited as `support.resolve` with the note. No open
/// case: not found, nothing written.
pub async fn resolve_by(
    db: &Db,
    now: Millis,
    agent: &Agent,
    order: &Order,
    note: &str,
) -> Result<()> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 2000 {
        return Err(Error::invalid(
            "a resolution note of 1 to 2000 characters is required",
        ));
    }
    let by = &agent.actor.name;
    let resolved = format!("resolved by {by}: {note}");
    let changed = on_pool!(db, p => {
        let mut tx = p.begin().await?;
        let n = sqlx::query(
            "UPDATE support_cases SET status = 'resolved', resolved_at = $1, resolved_by = $2, resolution_note = $3,
             working_by = NULL, working_since = NULL WHERE order_id = $4 AND status = 'open'"
        ).bind(now).bind(by).bind(note).bind(order.id).execute(&mut *tx).await?.rows_affected();
        if n > 0 {
            sqlx::query(EVENT_SQL)
                .bind(order.id).bind(now).bind("support_resolved").bind(&resolved)
                .execute(&mut *tx).await?;
            in_tx!(tx, now, agent, order, "support.resolve", note)?;
            tx.commit().await?;
        }
        n > 0
    });
    if !changed {
        return Err(Error::NotFound(
            "no open support case for this order".into(),
        ));
    }
    Ok(())
}

/// An agent's action on an order's timeline, in words ("Taken by Sara").
pub(crate) fn event_words(action: &str, name: &str, detail: &str) -> String {
    let detail = detail.trim();
    let with = |what: &str| {
        if detail.is_empty() {
            format!("{what} by {name}")
        } else {
            format!("{what} by {name}: {detail}")
        }
    };
    match action {
        "support.take" => format!("Taken by {name}"),
        "support.call" => with("Called"),
        "support.call_outcome" => format!(
            "Call logged by {name}: {}",
            match detail {
                "reached" => "the customer was reached",
                "no_answer" => "no answer",
                "wrong_number" => "wrong number",
                other => other,
            }
        ),
        "support.sms_link" => with("Secure link texted"),
        "support.whatsapp_link" => with("Secure link sent on WhatsApp"),
        "link.regenerate" => with("Links regenerated"),
        "link.email" | "link.resend_via_pool" => with("Fresh link e-mailed"),
        "support.resolve" => with("Resolved"),
        other => with(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::all_backends;

    const T0: Millis = 1_700_000_000_000;

    async fn an_order(db: &Db, number: &str) -> Order {
        let valid = crate::testing::fixtures::order(number, "a@example.com");
        crate::orders::intake(db, T0, valid, None)
            .await
            .expect("intake")
            .order()
            .clone()
    }

    fn sara() -> Agent {
        Agent {
            actor: Actor {
                user_id: None,
                name: "sara@shop.example".into(),
                ip: Some("192.0.2.7".into()),
            },
            name: "Sara".into(),
        }
    }

    async fn trail(db: &Db, order_id: i64) -> (Vec<(String, String, String)>, Vec<String>) {
        let audit = on_pool!(db, p => sqlx::query_as::<_, (String, String, String)>(
            "SELECT actor, action, detail FROM audit_log ORDER BY id"
        ).fetch_all(p).await)
        .expect("audit");
        let events = crate::orders::events(db, order_id)
            .await
            .expect("events")
            .into_iter()
            .filter(|e| e.kind == "agent" || e.kind == "support_resolved")
            .map(|e| format!("{}: {}", e.kind, e.detail))
            .collect();
        (audit, events)
    }

    #[tokio::test]
    async fn take_and_resolve_write_the_case_the_audit_and_the_timeline_together() {
        for t in all_backends().await {
            let db = &t.db;
            let order = an_order(db, "AL-1").await;
            crate::fallback::support::open(db, T0, order.id, 2, "held", &Default::default())
                .await
                .expect("open");
            let agent = sara();

            take_by(db, T0 + 1, &agent, &order).await.expect("take");
            let case = crate::fallback::support::for_order(db, order.id)
                .await
                .expect("case")
                .expect("some");
            assert_eq!(case.working_by.as_deref(), Some("sara@shop.example"));

            let empty = resolve_by(db, T0 + 2, &agent, &order, "  ").await;
            assert!(matches!(empty, Err(Error::Invalid(_))), "{empty:?}");
            resolve_by(db, T0 + 3, &agent, &order, " called, sent \n")
                .await
                .expect("resolve");
            let again = resolve_by(db, T0 + 4, &agent, &order, "twice").await;
            assert!(matches!(again, Err(Error::NotFound(_))), "{again:?}");

            let (audit, events) = trail(db, order.id).await;
            assert_eq!(
                audit,
                [
                    (
                        "sara@shop.example".into(),
                        "support.take".into(),
                        String::new()
                    ),
                    (
                        "sara@shop.example".into(),
                        "support.resolve".into(),
                        "called, sent".into()
                    ),
                ]
            );
            assert_eq!(
                events,
                [
                    "agent: Taken by Sara",
                    "support_resolved: resolved by sara@shop.example: called, sent",
                    "agent: Resolved by Sara: called, sent",
                ]
            );
            t.cleanup().await;
        }
    }

    #[tokio::test]
    async fn a_call_that_reached_marks_the_order_and_records_it_together() {
        for t in all_backends().await {
            let db = &t.db;
            let order = an_order(db, "AL-3").await;
            crate::fallback::support::open(db, T0, order.id, 2, "held", &Default::default())
                .await
                .expect("open");
            let agent = sara();
            let (action, detail) = ("support.call_outcome", "reached");
            let first =
                crate::reach::mark_by(db, T0 + 1, &agent, &order, "support_call", action, detail)
                    .await
                    .expect("mark");
            let again =
                crate::reach::mark_by(db, T0 + 2, &agent, &order, "support_call", action, detail)
                    .await
                    .expect("mark again");
            assert!(first && !again);
            let stored = crate::orders::get(db, order.id)
                .await
                .expect("get")
                .expect("order");
            assert_eq!(stored.reached_via.as_deref(), Some("support_call"));
            let case = crate::fallback::support::for_order(db, order.id)
                .await
                .expect("case")
                .expect("some");
            assert_eq!(case.status, "resolved");
            let (audit, events) = trail(db, order.id).await;
            assert_eq!(audit.len(), 2, "{audit:?}");
            assert_eq!(
                events,
                [
                    "agent: Call logged by Sara: the customer was reached",
                    "agent: Call logged by Sara: the customer was reached",
                ]
            );
            t.cleanup().await;
        }
    }

    #[tokio::test]
    async fn record_writes_both_or_neither() {
        for t in all_backends().await {
            let db = &t.db;
            let order = an_order(db, "AL-2").await;
            record(
                db,
                T0,
                &sara(),
                &order,
                "support.sms_link",
                "to +62*****890",
            )
            .await
            .expect("record");
            // An order that is not there: its event cannot be written (the
            // foreign key), so neither is the audit entry.
            let mut gone = order.clone();
            gone.id += 1000;
            gone.order_number = "AL-GONE".into();
            let failed = record(db, T0 + 1, &sara(), &gone, "support.call", "").await;
            assert!(failed.is_err(), "{failed:?}");
            let (audit, events) = trail(db, order.id).await;
            assert_eq!(audit.len(), 1, "{audit:?}");
            assert_eq!(
                events,
                ["agent: Secure link texted by Sara: to +62*****890"]
            );
            t.cleanup().await;
        }
    }
}
