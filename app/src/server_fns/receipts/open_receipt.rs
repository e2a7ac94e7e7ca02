use leptos::prelude::*;

use crate::types::ReceiptLinkPage;

/// Opens a secure receipt link. Public (the 256-bit token is the
/// credential). Expired, revoked and unknown tokens get the same answer and
/// status (404); over the rate limit, 429. Opening counts as reach.
#[server(prefix = "/fn", endpoint = "receipts/open")]
pub async fn open_receipt(token: String) -> Result<ReceiptLinkPage, ServerFnError> {
    use crate::ssr::{client_ip, engine_error, state};
    use crate::types::PublicReceipt;
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
    let branding = engine::receipt::Branding::from_config(&st.config);
    let receipt = engine::receipt::Receipt::for_order(&order, &branding);
    // The same formatted values the email templates get, typed.
    let v: FormattedReceipt = engine::receipt::view_json(&receipt)
        .map_err(|e| e.to_string())
        .and_then(|json| serde_json::from_value(json).map_err(|e| e.to_string()))
        .map_err(|e| engine_error(engine::Error::Internal(e)))?;
    Ok(ReceiptLinkPage::Receipt(Box::new(PublicReceipt {
        shop_name: v.shop.name,
        logo_url: v.shop.logo_url,
        support_email: v.shop.support_email,
        footer: v.shop.footer_text,
        order_number: order.order_number.clone(),
        placed_at: v.placed_at,
        customer_name: v.customer.name,
        billing_address: v.billing_address,
        items: v.items,
        subtotal: v.subtotal,
        discount: v.has_discount.then_some(v.discount),
        shipping: v.has_shipping.then_some(v.shipping),
        tax: v.tax,
        total: v.total,
        pdf_url: format!("/r/{token}/receipt.pdf"),
        link_expires: engine::clock::format_utc(link.expires_at),
    })))
}

/// The fields of `engine::receipt::view_json` the customer page shows.
#[cfg(feature = "ssr")]
#[derive(serde::Deserialize)]
struct FormattedReceipt {
    shop: FormattedShop,
    placed_at: String,
    customer: FormattedCustomer,
    billing_address: Vec<String>,
    items: Vec<crate::types::PublicItem>,
    subtotal: String,
    discount: String,
    shipping: String,
    tax: String,
    total: String,
    has_discount: bool,
    has_shipping: bool,
}

#[cfg(feature = "ssr")]
#[derive(serde::Deserialize)]
struct FormattedShop {
    name: String,
    logo_url: Option<String>,
    support_email: String,
    footer_text: String,
}

#[cfg(feature = "ssr")]
#[derive(serde::Deserialize)]
struct FormattedCustomer {
    name: String,
}
