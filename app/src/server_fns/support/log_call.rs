use leptos::prelude::*;

use crate::error::AppError;

use super::Done;

/// Records how a call went: `reached` (the customer has the receipt now),
/// `no_answer` or `wrong_number`. Agents.
#[server(prefix = "/fn", endpoint = "support/log_call")]
pub async fn log_call(order_number: String, outcome: String) -> Result<Done, AppError> {
    if !matches!(outcome.as_str(), "reached" | "no_answer" | "wrong_number") {
        return Err(AppError::new(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            "The outcome must be reached, no answer or wrong number.",
        ));
    }
    let (st, staff, order) = super::order_for_agent(&order_number).await?;
    let action = "support.call_outcome";
    if outcome == "reached" {
        // The reach and the agent's record of it commit together.
        engine::reach::mark_by(
            &st.db,
            st.now(),
            &staff.agent(),
            &order,
            "support_call",
            action,
            &outcome,
        )
        .await?;
    } else {
        super::audit(&st, &staff, action, &order, &outcome).await?;
    }
    super::answer(Done::one(&format!("call_{outcome}"), &order.order_number))
}
