use leptos::prelude::*;

use crate::error::AppError;

use super::Done;

/// Emails a fresh secure link to the order's address through the sender pool
/// the agent chose (say, the backup pool when the masked one is being
/// blocked). Earlier links stay valid. Agents.
#[server(prefix = "/fn", endpoint = "support/resend_via_pool")]
pub async fn resend_via_pool(order_number: String, pool_id: i64) -> Result<Done, AppError> {
    let (st, staff, order) = super::order_for_agent(&order_number).await?;
    let now = st.now();
    let pool = engine::delivery::pools::list(&st.db)
        .await?
        .into_iter()
        .find(|p| p.id == pool_id && p.enabled)
        .ok_or_else(|| {
            AppError::new(
                http::StatusCode::UNPROCESSABLE_ENTITY,
                "That sender pool does not exist or is disabled: choose another.",
            )
        })?;
    super::refuse_dead_address(&st, now, &order).await?;
    engine::links::queue_resend(&st.db, now, order.id, Some(pool.id)).await?;
    super::audit(
        &st,
        &staff,
        "link.resend_via_pool",
        &order,
        &format!(
            "a fresh link is queued to the order's email through pool {}",
            pool.name
        ),
    )
    .await?;
    super::answer(Done::one("resent", &order.order_number))
}
