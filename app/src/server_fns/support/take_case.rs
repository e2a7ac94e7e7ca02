use leptos::prelude::*;

use crate::error::AppError;

use super::Done;

/// "I'm on it": other agents see who works the case. Agents.
#[server(prefix = "/fn", endpoint = "support/take")]
pub async fn take_case(order_number: String) -> Result<Done, AppError> {
    let (st, staff, order) = super::order_for_agent(&order_number).await?;
    engine::orders::agent_log::take_by(&st.db, st.now(), &staff.agent(), &order).await?;
    super::answer(Done::one("taken", &order.order_number))
}
