use leptos::prelude::*;

use crate::types::ReceiptLinkPage;

/// Opens a secure receipt link. Public (the 256-bit token is the
/// credential). Expired, revoked and unknown tokens get the same answer and
/// status (404); over the rate limit, 429. Opening counts as reach.
#[server(prefix = "/fn", endpoint = "receipts/open")]
pub async fn open_receipt(token: String) -> Result<ReceiptLinkPage, ServerFnError> {
    use crate::ssr::{client_ip, engine_error, state};
    use crate::types::{PublicItem, PublicReceipt};
    use engine::links::{self, Lookup};

    let st = state()?;
    let now = st.now();
    let ip = client_ip().await;
    let shop_name = st.config.shop.name.clone();
    let set_status = |status: http::StatusCode| {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(status);
        }
    };
    if !links::within_limits(&st.db, now, &ip, &token, &st.config.links)
        .await
        .map_err(engine_error)?
    {
        set_status(http::StatusCode::TOO_MANY_REQUESTS);
        return Ok(ReceiptLinkPage::Limited { shop_name });
    }
    let (link, order) = match links::lookup(&st.db, now, &token)
        .await
        .map_err(engine_error)?
    {
        Lookup::Valid { link, order } => (link, order),
        Lookup::Stale { .. } | Lookup::Unknown => {
            set_status(http::StatusCode::NOT_FOUND);
            return Ok(ReceiptLinkPage::Unavailable {
                shop_name,
                support_email: st.config.shop.support_email.clone(),
            });
        }
    };
    let user_agent = use_context::<http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    links::record_use(&st.db, now, link.id, "open", &ip, &user_agent)
        .await
        .map_err(engine_error)?;
    engine::reach::mark(&st.db, order.id, now, "link_opened")
        .await
        .map_err(engine_error)?;
    let branding = engine::delivery::worker::branding(&st.config);
    let receipt = engine::delivery::worker::receipt_for(&order, &branding);
    let v = engine::receipt::view_json(&receipt)
        .map_err(|e| engine_error(engine::Error::Internal(e.to_string())))?;
    let s = |key: &str| {
        v.get(key)
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let flag = |key: &str| {
        v.get(key)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    };
    let items = receipt
        .items
        .iter()
        .zip(
            v.get("items")
                .and_then(|i| i.as_array())
                .cloned()
                .unwrap_or_default(),
        )
        .map(|(item, view)| PublicItem {
            name: item.name.clone(),
            quantity: item.quantity,
            unit_price: view
                .get("unit_price")
                .and_then(|x| x.as_str())
                .unwrap_or_default()
                .to_string(),
            line_total: view
                .get("line_total")
                .and_then(|x| x.as_str())
                .unwrap_or_default()
                .to_string(),
        })
        .collect();
    Ok(ReceiptLinkPage::Receipt(Box::new(PublicReceipt {
        shop_name,
        logo_url: st
            .config
            .shop
            .logo_url
            .clone()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        support_email: st.config.shop.support_email.clone(),
        footer: st.config.shop.footer.clone(),
        order_number: order.order_number.clone(),
        placed_at: s("placed_at"),
        customer_name: order.customer_name.clone(),
        billing_address: order.billing_lines().unwrap_or_default(),
        items,
        subtotal: s("subtotal"),
        discount: flag("has_discount").then(|| s("discount")),
        shipping: flag("has_shipping").then(|| s("shipping")),
        tax: s("tax"),
        total: s("total"),
        pdf_url: format!("/r/{token}/receipt.pdf"),
        link_expires: engine::clock::format_utc(link.expires_at),
    })))
}
