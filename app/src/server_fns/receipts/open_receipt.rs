use leptos::prelude::*;

use crate::error::AppError;
use crate::types::ReceiptLinkReply;

/// Opens a secure receipt link. Public (the 256-bit token is the
/// credential). Expired, revoked and unknown tokens get the same answer and
/// status (404); over the rate limit, 429. Opening counts as reach.
/// In the order's language (`customer.locale`), else the shop's
/// (`shop.default_locale`), else the browser's (`Accept-Language`).
#[server(prefix = "/fn", endpoint = "receipts/open")]
pub async fn open_receipt(token: String) -> Result<ReceiptLinkReply, AppError> {
    let st = crate::ssr::state()?;
    let accept_language = use_context::<http::request::Parts>().and_then(|p| {
        p.headers
            .get(http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    let OpenedLink {
        opened: page,
        order_locale,
        order_number,
        expires_at,
    } = open(&st, &token).await?;
    let lang = engine::i18n::resolve(
        order_locale.as_deref(),
        st.config.shop.default_locale.as_deref(),
        accept_language.as_deref(),
    );
    let expires = expires_at.map(|at| lang.date_time(at, &st.config.shop.time_zone));
    let page = match page {
        Opened::Receipt(receipt, mut public) => {
            // The receipt in the language chosen here (the browser's when
            // neither the order nor the shop names one).
            let mut receipt = *receipt;
            receipt.locale = lang.tag();
            fill_formatted(&mut public, &receipt)?;
            public.link_expires = expires.clone().unwrap_or_default();
            ReceiptLinkPage::Receipt(public)
        }
        Opened::Other(page) => page,
    };
    Ok(ReceiptLinkReply {
        words: words(&lang, order_number.as_deref(), expires),
        page,
    })
}

#[cfg(feature = "ssr")]
use crate::types::{PublicReceipt, ReceiptLinkPage};

/// What a token opened, with the order's own language (`customer.locale`),
/// its number and the link's expiry (Unix ms) when it opened a receipt.
#[cfg(feature = "ssr")]
struct OpenedLink {
    opened: Opened,
    order_locale: Option<String>,
    order_number: Option<String>,
    expires_at: Option<i64>,
}

#[cfg(feature = "ssr")]
impl OpenedLink {
    fn other(page: ReceiptLinkPage) -> Self {
        OpenedLink {
            opened: Opened::Other(page),
            order_locale: None,
            order_number: None,
            expires_at: None,
        }
    }
}

#[cfg(feature = "ssr")]
enum Opened {
    Receipt(Box<engine::receipt::Receipt>, Box<PublicReceipt>),
    Other(ReceiptLinkPage),
}

/// The words of the customer pages, in `lang`.
#[cfg(feature = "ssr")]
fn words(
    lang: &engine::i18n::Lang,
    order_number: Option<&str>,
    expires: Option<String>,
) -> crate::types::Words {
    const PLAIN: &[&str] = &[
        "page-title",
        "page-loading",
        "page-download-pdf",
        "page-unavailable-heading",
        "page-fresh-explain",
        "page-fresh-button",
        "page-fresh-sent",
        "page-questions",
        "page-limited-heading",
        "page-limited-body",
        "page-error-heading",
        "receipt-order",
        "receipt-date",
        "receipt-customer",
        "receipt-billed-to",
        "receipt-items",
        "receipt-item",
        "receipt-qty",
        "receipt-unit-price",
        "receipt-amount",
        "receipt-subtotal",
        "receipt-discount",
        "receipt-shipping",
        "receipt-tax",
        "receipt-total",
    ];
    let mut text: std::collections::BTreeMap<String, String> = PLAIN
        .iter()
        .map(|key| ((*key).to_owned(), lang.t(key, &[])))
        .collect();
    if let Some(order) = order_number {
        text.insert(
            "receipt-title".into(),
            lang.t("receipt-title", &[("order", order)]),
        );
    }
    if let Some(expires) = expires {
        text.insert(
            "page-link-expires".into(),
            lang.t("page-link-expires", &[("expires", &expires)]),
        );
    }
    crate::types::Words {
        lang: lang.tag(),
        text,
    }
}

/// What `token` opens, with the order's own language (`customer.locale`),
/// its number and the link's expiry (Unix ms), when it opens a receipt.
#[cfg(feature = "ssr")]
async fn open(st: &crate::ssr::AppState, token: &str) -> Result<OpenedLink, AppError> {
    use crate::ssr::client_ip;
    use engine::links::{self, Lookup};

    let now = st.now();
    let ip = client_ip().await;
    let shop_name = st.config.shop.name.clone();
    let set_status = |status: http::StatusCode| {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(status);
        }
    };
    if !links::within_limits(&st.db, now, &ip, token, &st.config.links).await? {
        set_status(http::StatusCode::TOO_MANY_REQUESTS);
        let page = ReceiptLinkPage::Limited { shop_name };
        return Ok(OpenedLink::other(page));
    }
    let (link, order) = match links::lookup(&st.db, now, token).await? {
        Lookup::Valid { link, order } => (link, order),
        Lookup::Stale { .. } | Lookup::Unknown => {
            set_status(http::StatusCode::NOT_FOUND);
            let page = ReceiptLinkPage::Unavailable {
                shop_name,
                support_email: st.config.shop.support_email.clone(),
            };
            return Ok(OpenedLink::other(page));
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
    links::record_use(&st.db, now, link.id, "open", &ip, &user_agent).await?;
    engine::reach::mark(&st.db, order.id, now, "link_opened").await?;
    let branding = engine::receipt::Branding::from_config(&st.config);
    let receipt = engine::receipt::Receipt::for_order(&order, &branding);
    let public = PublicReceipt {
        shop_name: String::new(),
        logo_url: None,
        support_email: String::new(),
        footer: String::new(),
        order_number: order.order_number.clone(),
        placed_at: String::new(),
        customer_name: String::new(),
        billing_address: Vec::new(),
        items: Vec::new(),
        subtotal: String::new(),
        discount: None,
        shipping: None,
        tax: String::new(),
        total: String::new(),
        pdf_url: format!("/r/{token}/receipt.pdf"),
        link_expires: String::new(),
    };
    Ok(OpenedLink {
        opened: Opened::Receipt(Box::new(receipt), Box::new(public)),
        order_locale: order.customer_locale.clone(),
        order_number: Some(order.order_number.clone()),
        expires_at: Some(link.expires_at),
    })
}

/// The formatted values of `receipt` (the same the e-mail templates get).
#[cfg(feature = "ssr")]
fn fill_formatted(
    public: &mut PublicReceipt,
    receipt: &engine::receipt::Receipt,
) -> Result<(), AppError> {
    let v: FormattedReceipt = engine::receipt::view_json(receipt)
        .map_err(|e| e.to_string())
        .and_then(|json| serde_json::from_value(json).map_err(|e| e.to_string()))
        .map_err(engine::Error::Internal)?;
    public.shop_name = v.shop.name;
    public.logo_url = v.shop.logo_url;
    public.support_email = v.shop.support_email;
    public.footer = v.shop.footer_text;
    public.placed_at = v.placed_at;
    public.customer_name = v.customer.name;
    public.billing_address = v.billing_address;
    public.items = v.items;
    public.subtotal = v.subtotal;
    public.discount = v.has_discount.then_some(v.discount);
    public.shipping = v.has_shipping.then_some(v.shipping);
    public.tax = v.tax;
    public.total = v.total;
    Ok(())
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
