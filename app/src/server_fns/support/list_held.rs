use leptos::prelude::*;

use crate::error::AppError;
use crate::types::HeldRow;

/// How many open cases the queue shows: the most urgent, a working set. Each
/// row carries its action forms (~3.4 KB of HTML), so 500 rows made a 1.7 MB
/// page that took 146 ms p95 to render at 10 M orders; an agent works from
/// the top, and the rest move up as cases are resolved.
pub const QUEUE_LIMIT: usize = 100;

/// Open support cases, most urgent first, with the SLA clock, at most
/// [`QUEUE_LIMIT`]. Agents and managers.
#[server(prefix = "/fn", endpoint = "support/list")]
pub async fn list_held() -> Result<Vec<HeldRow>, AppError> {
    use crate::ssr::{require_role, state};
    use engine::accounts::Role;
    let st = state()?;
    let staff = require_role(&[Role::Agent, Role::Manager]).await?;
    let mask = staff.user.role == Role::Manager;
    let now = st.now();
    let rows = engine::fallback::support::queue(&st.db, QUEUE_LIMIT as i64).await?;
    let emails: Vec<&str> = rows.iter().map(|r| r.customer_email.as_str()).collect();
    let suppressed = engine::suppression::active_many(&st.db, now, &emails).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let left_min = (r.due_at - now) / 60_000;
            let email_dead =
                suppressed.for_email(&r.customer_email).is_some() || r.reason.contains("dead");
            HeldRow {
                order_number: r.order_number,
                priority: r.priority,
                reason: r.reason,
                age: minutes_text((now - r.opened_at) / 60_000),
                sla: if left_min < 0 {
                    format!("overdue by {}", minutes_text(-left_min))
                } else {
                    format!("due in {}", minutes_text(left_min))
                },
                overdue: left_min < 0,
                working_by: r.working_by,
                account_kind: r.account_kind,
                customer_email: if mask {
                    engine::privacy::mask_email(&engine::orders::display_email(&r.customer_email))
                } else {
                    engine::orders::display_email(&r.customer_email)
                },
                has_phone: r.customer_phone.is_some(),
                whatsapp: st.config.whatsapp.enabled()
                    && r.whatsapp_opt_in
                    && r.customer_phone.is_some(),
                total: engine::receipt::money::format_minor(r.total_minor, &r.currency)
                    .unwrap_or_else(|_| r.total_minor.to_string()),
                fallback: r.fallback_why.unwrap_or_default(),
                reached: r.reached_at.is_some(),
                email_dead,
            }
        })
        .collect())
}

#[cfg(feature = "ssr")]
fn minutes_text(m: i64) -> String {
    if m >= 120 {
        format!("{} h {} min", m / 60, m % 60)
    } else {
        format!("{m} min")
    }
}
