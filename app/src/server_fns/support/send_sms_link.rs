use leptos::prelude::*;

use crate::error::AppError;

use super::Done;

/// Texts the customer a secure link to the receipt, to the phone number on
/// the order. Earlier links keep working (revoking them is "Regenerate").
/// Agents.
#[server(prefix = "/fn", endpoint = "support/send_sms")]
pub async fn send_sms_link(order_number: String) -> Result<Done, AppError> {
    let (st, staff, order) = super::order_for_agent(&order_number).await?;
    let provider = engine::sms::SmsProvider::from_app_config(&st.config)?;
    let base = st.config.public_base_url();
    let reach = super::phone_reach(&st, &provider, &base);
    let sent =
        engine::fallback::support::text_link(&st.db, st.now(), &order, &reach, &staff.user.email)
            .await?;
    super::audit(
        &st,
        &staff,
        "support.sms_link",
        &order,
        &format!("to {}", engine::privacy::mask_phone(&sent.to_phone)),
    )
    .await?;
    super::answer(Done::one("texted", &order.order_number))
}
