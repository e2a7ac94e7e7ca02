use leptos::prelude::*;

use crate::error::AppError;
use serde::{Deserialize, Serialize};

/// An order as an agent acts on it: the open case, the ways to reach the
/// customer, the links that work now and whom they went to, and what
/// happens next. The order page and its regenerate confirmation read it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OrderCase {
    pub order_number: String,
    /// The open support case, if the order needs an agent.
    pub case: Option<OpenCase>,
    /// The phone on the order (masked for managers).
    pub phone: Option<String>,
    /// The order's e-mail address (masked for managers).
    pub email: String,
    /// Why the address cannot take e-mail (suppressed or dead), if it cannot.
    pub email_dead: Option<String>,
    /// Links that open the receipt now, newest first.
    pub live_links: Vec<LiveLink>,
    /// What happens next, in one sentence.
    pub next: String,
    /// The caller may act on the order (agents and admins).
    pub can_act: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OpenCase {
    /// "critical" or "high value".
    pub priority: String,
    pub reason: String,
    /// "due in 42 min" / "overdue by 5 min".
    pub sla: String,
    pub overdue: bool,
    pub working_by: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LiveLink {
    pub id: i64,
    /// How and to whom it went, in words.
    pub how: String,
    pub issued_at: String,
    pub expires_at: String,
}

/// The order's case, links and next step. Agents and managers (managers see
/// masked contact details and no actions).
#[server(prefix = "/fn", endpoint = "support/case")]
pub async fn case_view(order_number: String) -> Result<OrderCase, AppError> {
    use crate::ssr::{require_role, state};
    use engine::accounts::Role;
    use engine::clock::format_utc;
    use engine::privacy::{mask_email, mask_phone};
    let st = state()?;
    let staff = require_role(&[Role::Agent, Role::Manager]).await?;
    let mask = staff.user.role == Role::Manager;
    let now = st.now();
    let order = engine::orders::find_by_number(&st.db, &order_number)
        .await?
        .ok_or_else(|| {
            AppError::new(
                http::StatusCode::NOT_FOUND,
                format!("There is no order {order_number}."),
            )
        })?;
    let case = engine::fallback::support::for_order(&st.db, order.id)
        .await?
        .filter(|c| c.status == "open")
        .map(|c| {
            let left = (c.due_at - now) / 60_000;
            OpenCase {
                priority: if c.priority <= 1 {
                    "critical"
                } else {
                    "high value"
                }
                .into(),
                reason: c.reason,
                sla: if left < 0 {
                    format!("overdue by {} min", -left)
                } else {
                    format!("due in {left} min")
                },
                overdue: left < 0,
                working_by: c.working_by,
            }
        });
    let email = engine::orders::display_email(&order.customer_email);
    let shown_email = if mask { mask_email(&email) } else { email };
    let phone = order.customer_phone.clone();
    let links = engine::links::for_order(&st.db, order.id).await?;
    let live_links = links
        .into_iter()
        .rev()
        .filter(|l| l.revoked_at.is_none() && l.expires_at > now)
        .map(|l| LiveLink {
            id: l.id,
            how: link_words(
                &l.channel,
                &l.created_by,
                phone.as_deref().map(mask_phone),
                &shown_email,
            ),
            issued_at: format_utc(l.created_at),
            expires_at: format_utc(l.expires_at),
        })
        .collect();
    let email_dead = super::dead_address(&st, now, &order).await?;
    let next = next_step(&order, case.as_ref());
    Ok(OrderCase {
        order_number: order.order_number.clone(),
        case,
        phone: phone.map(|p| if mask { mask_phone(&p) } else { p }),
        email: shown_email,
        email_dead,
        live_links,
        next,
        can_act: !mask,
    })
}

/// "Texted to +62*******890 by sara@shop.example".
#[cfg(feature = "ssr")]
fn link_words(channel: &str, by: &str, phone: Option<String>, email: &str) -> String {
    let by = match by {
        "fallback" => "by the automatic fallback".to_string(),
        "intake" => "at checkout".to_string(),
        other => format!("by {other}"),
    };
    match channel {
        "sms" => format!(
            "Texted to {} {by}",
            phone.unwrap_or_else(|| "the customer's phone".into())
        ),
        "masked_email" => format!("E-mailed to {email} through the masked sender {by}"),
        "fresh_request" => format!("E-mailed to {email} when the customer asked for a fresh link"),
        "checkout" => "Shown to the customer on the shop's thank-you page at checkout".to_string(),
        "whatsapp" => format!(
            "Sent on WhatsApp to {} {by}",
            phone.unwrap_or_else(|| "the customer's phone".into())
        ),
        other => format!("Issued ({other}) {by}"),
    }
}

/// What happens next for the order, in one sentence.
#[cfg(feature = "ssr")]
pub(crate) fn next_step(order: &engine::orders::Order, case: Option<&OpenCase>) -> String {
    if let Some(c) = case {
        return match &c.working_by {
            Some(who) => format!(
                "{who} is on it: an agent reaches the customer and resolves the case ({}).",
                c.sla
            ),
            None => format!(
                "Waiting for an agent ({}): take the case, reach the customer, then resolve it.",
                c.sla
            ),
        };
    }
    if order.reached_at.is_some() {
        return "Nothing more to do: the customer has the receipt.".into();
    }
    match order.state.as_str() {
        "accepted" => "Nothing more unless a bounce comes back: the customer's mail server accepted the receipt.".into(),
        "queued" | "sending" => "Rebound is sending the receipt now.".into(),
        "retry_scheduled" => format!("Rebound tries again by itself: {}.", order.state_detail),
        "held" => match &order.fallback_why {
            Some(why) => format!("The automatic fallback is on it: {why}. An agent is asked only if it cannot reach the customer."),
            None => "The automatic fallback decides within seconds how to reach the customer.".into(),
        },
        other => format!("The receipt is {other}."),
    }
}
