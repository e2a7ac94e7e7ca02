use leptos::prelude::*;

use crate::error::AppError;

use super::Done;

/// Sends the customer a secure link to the receipt on WhatsApp, in the
/// order's language, when they agreed to WhatsApp (`whatsapp_opt_in`) and a
/// WhatsApp provider is configured. Earlier links keep working (revoking them
/// is "Regenerate"). Agents.
#[server(prefix = "/fn", endpoint = "support/send_whatsapp")]
pub async fn send_whatsapp_link(order_number: String) -> Result<Done, AppError> {
    let (st, staff, order) = super::order_for_agent(&order_number).await?;
    let provider =
        engine::sms::WhatsappProvider::from_app_config(&st.config)?.ok_or_else(|| {
            AppError::new(
                http::StatusCode::CONFLICT,
                "WhatsApp is not configured: text the link instead.",
            )
        })?;
    // Checked before a link is issued: a refusal leaves no unused link.
    if let Some(why) = engine::sms::whatsapp::refusal(&order) {
        return Err(AppError::new(http::StatusCode::CONFLICT, why));
    }
    let now = st.now();
    let issued = engine::links::issue(
        &st.db,
        now,
        &order,
        engine::sms::whatsapp::KIND,
        &staff.user.email,
        st.config.links.ttl_ms(),
    )
    .await?;
    let row = provider
        .send_link(&st.db, now, &st.config, &order, &issued, &staff.user.email)
        .await?;
    super::audit(
        &st,
        &staff,
        "support.whatsapp_link",
        &order,
        &format!("to {}", engine::privacy::mask_phone(&row.to_phone)),
    )
    .await?;
    super::answer(Done::one("whatsapp", &order.order_number))
}
