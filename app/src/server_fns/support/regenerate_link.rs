use leptos::prelude::*;

/// Revokes every earlier link of the order and emails a fresh one to the
/// order's address through the masked pool. Agents never see the token.
#[server(prefix = "/fn", endpoint = "support/regenerate_link")]
pub async fn regenerate_link(order_number: String) -> Result<(), ServerFnError> {
    use crate::ssr::engine_error;
    let (st, staff, order) = super::order_for_agent(&order_number).await?;
    let now = st.now();
    super::refuse_dead_address(&st, now, &order).await?;
    let revoked = engine::links::revoke_all(&st.db, now, order.id)
        .await
        .map_err(engine_error)?;
    engine::links::queue_masked_resend(&st.db, now, order.id)
        .await
        .map_err(engine_error)?;
    super::audit(
        &st,
        &staff,
        "link.regenerate",
        &order,
        &format!("{revoked} earlier link(s) revoked; a fresh link is queued to the order's email"),
    )
    .await
}
