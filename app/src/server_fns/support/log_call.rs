use leptos::prelude::*;

/// Records how a call went: `reached` (the customer has the receipt now),
/// `no_answer` or `wrong_number`. Agents.
#[server(prefix = "/fn", endpoint = "support/log_call")]
pub async fn log_call(order_number: String, outcome: String) -> Result<(), ServerFnError> {
    use crate::ssr::{engine_error, fail};
    if !matches!(outcome.as_str(), "reached" | "no_answer" | "wrong_number") {
        return Err(fail(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            "The outcome must be reached, no answer or wrong number.",
        ));
    }
    let (st, staff, order) = super::order_for_agent(&order_number).await?;
    if outcome == "reached" {
        engine::reach::mark(&st.db, order.id, st.now(), "support_call")
            .await
            .map_err(engine_error)?;
    }
    super::audit(&st, &staff, "support.call_outcome", &order, &outcome).await
}
