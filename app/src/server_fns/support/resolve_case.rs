use leptos::prelude::*;

use crate::error::AppError;

use super::Done;

/// Closes the case with a note. Agents.
#[server(prefix = "/fn", endpoint = "support/resolve")]
pub async fn resolve_case(order_number: String, note: String) -> Result<Done, AppError> {
    let (st, staff, order) = super::order_for_agent(&order_number).await?;
    engine::orders::agent_log::resolve_by(&st.db, st.now(), &staff.agent(), &order, &note).await?;
    super::answer(Done::one("resolved", &order.order_number))
}
