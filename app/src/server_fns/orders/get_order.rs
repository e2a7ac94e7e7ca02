use leptos::prelude::*;

use crate::error::AppError;
use crate::types::OrderDetail;

/// One order's whole story: items, attempts with exact SMTP replies, timeline.
/// Agents and managers (managers see masked contact details).
#[server(prefix = "/fn", endpoint = "orders/get")]
pub async fn get_order(order_number: String) -> Result<OrderDetail, AppError> {
    use crate::ssr::{require_role, state};
    use crate::types::{AttemptRow, EventRow};
    use engine::accounts::Role;
    use engine::clock::format_utc;
    use engine::receipt::money::format_minor;

    let st = state()?;
    let staff = require_role(&[Role::Agent, Role::Manager]).await?;
    let mask = staff.user.role == Role::Manager;
    let order = engine::orders::find_by_number(&st.db, &order_number)
        .await?
        .ok_or_else(|| {
            AppError::new(
                http::StatusCode::NOT_FOUND,
                format!("There is no order {order_number}."),
            )
        })?;
    let pools = engine::delivery::pools::list(&st.db).await?;
    let mut attempts = engine::delivery::attempts::attempts(&st.db, order.id).await?;
    // Numbered 1, 2, 3 by when they started (masked re-sends are stored
    // from 101 up so they never collide with receipt attempts).
    attempts.sort_by_key(|a| (a.started_at, a.attempt_no));
    let events = engine::orders::events(&st.db, order.id).await?;
    let bounces = engine::bounces::for_order(&st.db, order.id).await?;
    let soft_bounces = engine::soft_bounces::count(&st.db, &order.customer_email).await?;
    let risk = {
        let mut factors: Vec<(String, i64)> = order
            .risk_factors()
            .into_iter()
            .map(|f| (f.label, f.points))
            .collect();
        factors.sort_by_key(|f| std::cmp::Reverse(f.1));
        let suggested_email = order
            .customer_email
            .rsplit_once('@')
            .and_then(|(local, domain)| {
                engine::risk::typo_fix(domain).map(|fix| format!("{local}@{fix}"))
            })
            .map(|e| {
                if mask {
                    engine::privacy::mask_email(&e)
                } else {
                    e
                }
            });
        crate::types::RiskDetail {
            score: order.risk_score,
            high: order.inline_receipt,
            network_label: super::network_label(&order),
            asn: order.network_asn,
            country: order.ip_country.clone(),
            routed_to: order
                .route_pool_id
                .map(|id| engine::delivery::pools::name_of(&pools, id)),
            factors,
            suggested_email,
        }
    };
    let money = |v: i64| format_minor(v, &order.currency).unwrap_or_else(|_| v.to_string());
    let items = order
        .items()
        .into_iter()
        .map(|i| {
            let line = i64::from(i.quantity).saturating_mul(i.unit_price);
            (i.name, i.quantity, money(i.unit_price), money(line))
        })
        .collect();
    let totals = vec![
        ("Subtotal".to_string(), money(order.subtotal_minor)),
        ("Discount".to_string(), money(-order.discount_minor)),
        ("Shipping".to_string(), money(order.shipping_minor)),
        ("Tax".to_string(), money(order.tax_minor)),
        ("Total".to_string(), money(order.total_minor)),
    ];
    Ok(OrderDetail {
        order: super::to_row(&order, mask),
        customer_name: order.customer_name.clone(),
        customer_phone: order.customer_phone.as_deref().map(|p| {
            if mask {
                engine::privacy::mask_phone(p)
            } else {
                p.to_string()
            }
        }),
        client_ip: order.client_ip.clone(),
        items,
        totals,
        attempts: attempts
            .into_iter()
            .enumerate()
            .map(|(i, a)| AttemptRow {
                attempt_no: i as i64 + 1,
                what: super::words::purpose(&a.purpose).to_string(),
                pool: engine::delivery::pools::name_of(&pools, a.pool_id),
                message_id: a.message_id,
                started_at: format_utc(a.started_at),
                outcome: super::words::outcome(a.outcome.map(|o| o.as_str())),
                smtp: match (a.smtp_code, a.smtp_text) {
                    (Some(c), Some(t)) => format!("{c} {t}"),
                    (None, Some(t)) => t,
                    _ => String::new(),
                },
                reason: a.reason.unwrap_or_default(),
                class: a.class.unwrap_or_default(),
            })
            .collect(),
        bounces: bounces
            .into_iter()
            .map(|b| crate::types::BounceRow {
                received_at: format_utc(b.received_at),
                source: b.source,
                matched_by: b.matched_by,
                recipient: b
                    .recipient
                    .map(|r: String| {
                        if mask {
                            engine::privacy::mask_email(&r)
                        } else {
                            r
                        }
                    })
                    .unwrap_or_default(),
                reason: b.reason,
                class: b.class,
                hard: b.hard,
                status: b.status.unwrap_or_default(),
                diagnostic: b.diagnostic,
                rule: b.rule,
                raw: if mask { None } else { b.raw },
            })
            .collect(),
        timeline: events
            .into_iter()
            .map(|e| {
                let (kind, detail) = super::words::event(&e.kind, &e.detail);
                EventRow {
                    at: format_utc(e.at),
                    kind,
                    detail,
                }
            })
            .collect(),
        soft_bounces,
        risk,
    })
}
