use leptos::prelude::*;

/// Texts the customer a fresh secure link (earlier links are revoked), to
/// the phone number on the order. Agents.
#[server(prefix = "/fn", endpoint = "support/send_sms")]
pub async fn send_sms_link(order_number: String) -> Result<(), ServerFnError> {
    use crate::ssr::{engine_error, fail};
    let (st, staff, order) = super::order_for_agent(&order_number).await?;
    let Some(phone) = order.customer_phone.clone() else {
        return Err(fail(
            http::StatusCode::CONFLICT,
            "There is no phone number on this order.",
        ));
    };
    let now = st.now();
    let issued = engine::links::regenerate(
        &st.db,
        now,
        &order,
        "sms",
        &staff.user.email,
        st.config.links.ttl_ms(),
    )
    .await
    .map_err(engine_error)?;
    let body = format!(
        "{}: your receipt for order {}: {}",
        st.config.shop.name,
        order.order_number,
        issued.url(&st.config.public_base_url())
    );
    let provider = engine::sms::SmsProvider::from_app_config(&st.config).map_err(engine_error)?;
    provider
        .send_sms(
            &st.db,
            now,
            Some(order.id),
            &phone,
            &body,
            &staff.user.email,
        )
        .await
        .map_err(engine_error)?;
    super::audit(
        &st,
        &staff,
        "support.sms_link",
        &order,
        &format!(
            "fresh link texted to {}",
            engine::privacy::mask_phone(&phone)
        ),
    )
    .await
}
