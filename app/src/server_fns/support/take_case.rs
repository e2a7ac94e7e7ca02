use leptos::prelude::*;

/// "I'm on it": other agents see who works the case. Agents.
#[server(prefix = "/fn", endpoint = "support/take")]
pub async fn take_case(order_number: String) -> Result<(), ServerFnError> {
    let (st, staff, order) = super::order_for_agent(&order_number).await?;
    engine::fallback::support::start_working(&st.db, st.now(), order.id, &staff.user.email)
        .await
        .map_err(crate::ssr::engine_error)?;
    super::audit(&st, &staff, "support.take", &order, "").await
}
