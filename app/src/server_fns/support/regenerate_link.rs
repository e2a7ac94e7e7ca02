use leptos::prelude::*;

use crate::error::AppError;

use super::Done;

/// Revokes every earlier link of the order and emails a fresh one to the
/// order's address through the masked pool. The page asks first, listing the
/// live links and whom they went to (`case_view`); `confirm` must be `yes`.
/// Never to a dead (suppressed) address: the agent is told to text the link
/// instead. Agents never see the token.
#[server(prefix = "/fn", endpoint = "support/regenerate_link")]
pub async fn regenerate_link(
    order_number: String,
    #[server(default)] confirm: String,
) -> Result<Done, AppError> {
    let (st, staff, order) = super::order_for_agent(&order_number).await?;
    let now = st.now();
    super::refuse_dead_address(&st, now, &order).await?;
    if confirm != "yes" {
        return Err(AppError::new(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            "Regenerating revokes the links the customer already has: confirm it on the order's page first.",
        ));
    }
    let revoked = engine::links::revoke_all(&st.db, now, order.id).await?;
    engine::links::queue_masked_resend(&st.db, now, order.id).await?;
    super::audit(
        &st,
        &staff,
        "link.regenerate",
        &order,
        &format!("{revoked} earlier link(s) revoked; a fresh link is queued to the order's email"),
    )
    .await?;
    super::answer(Done::one("regenerated", &order.order_number))
}
