use leptos::prelude::*;

/// Calls the customer with a short spoken message (the link follows by SMS).
/// Agents.
#[server(prefix = "/fn", endpoint = "support/start_call")]
pub async fn start_call(order_number: String) -> Result<(), ServerFnError> {
    use crate::ssr::{engine_error, fail};
    let (st, staff, order) = super::order_for_agent(&order_number).await?;
    let Some(phone) = order.customer_phone.clone() else {
        return Err(fail(
            http::StatusCode::CONFLICT,
            "There is no phone number on this order.",
        ));
    };
    let message = format!(
        "Hello, this is {} about your order {}. We could not email your receipt. We will send you a text message with a secure link to it.",
        st.config.shop.name, order.order_number
    );
    let provider = engine::sms::SmsProvider::from_app_config(&st.config).map_err(engine_error)?;
    provider
        .start_call(
            &st.db,
            st.now(),
            Some(order.id),
            &phone,
            &message,
            &staff.user.email,
        )
        .await
        .map_err(engine_error)?;
    engine::fallback::support::start_working(&st.db, st.now(), order.id, &staff.user.email)
        .await
        .map_err(engine_error)?;
    super::audit(
        &st,
        &staff,
        "support.call",
        &order,
        &format!("call started to {}", engine::privacy::mask_phone(&phone)),
    )
    .await
}
