use leptos::prelude::*;

use crate::error::AppError;

use super::Done;

/// Calls the customer with a short spoken message and, as the message
/// promises, texts the secure link right after the call starts. Agents.
#[server(prefix = "/fn", endpoint = "support/start_call")]
pub async fn start_call(order_number: String) -> Result<Done, AppError> {
    let (st, staff, order) = super::order_for_agent(&order_number).await?;
    let provider = engine::sms::SmsProvider::from_app_config(&st.config)?;
    let base = st.config.public_base_url();
    let reach = super::phone_reach(&st, &provider, &base);
    let (call, _text) = engine::fallback::support::call_and_text(
        &st.db,
        st.now(),
        &order,
        &reach,
        &staff.user.email,
    )
    .await?;
    let phone = engine::privacy::mask_phone(&call.to_phone);
    super::audit(
        &st,
        &staff,
        "support.call",
        &order,
        &format!("call started to {phone}"),
    )
    .await?;
    super::audit(
        &st,
        &staff,
        "support.sms_link",
        &order,
        &format!("to {phone}, after the call"),
    )
    .await?;
    super::answer(Done::one("called", &order.order_number))
}
