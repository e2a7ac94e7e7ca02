use leptos::prelude::*;

use crate::error::AppError;

use super::Done;

/// E-mails a fresh secure link to the order's address through the masked
/// sender; earlier links keep working. Refused for a dead (suppressed)
/// address, with what to do instead. Agents.
#[server(prefix = "/fn", endpoint = "support/email_link")]
pub async fn email_link(order_number: String) -> Result<Done, AppError> {
    let (st, staff, order) = super::order_for_agent(&order_number).await?;
    let now = st.now();
    super::refuse_dead_address(&st, now, &order).await?;
    engine::links::queue_masked_resend(&st.db, now, order.id).await?;
    super::audit(
        &st,
        &staff,
        "link.email",
        &order,
        "through the masked sender; earlier links still work",
    )
    .await?;
    super::answer(Done::one("emailed", &order.order_number))
}
