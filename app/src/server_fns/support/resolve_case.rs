use leptos::prelude::*;

/// Closes the case with a note. Agents.
#[server(prefix = "/fn", endpoint = "support/resolve")]
pub async fn resolve_case(order_number: String, note: String) -> Result<(), ServerFnError> {
    let (st, staff, order) = super::order_for_agent(&order_number).await?;
    engine::fallback::support::resolve(&st.db, st.now(), order.id, &staff.user.email, &note)
        .await
        .map_err(crate::ssr::engine_error)?;
    super::audit(&st, &staff, "support.resolve", &order, note.trim()).await
}
