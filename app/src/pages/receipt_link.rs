//! `/r/{token}`: the customer's receipt behind a secure link, in the
//! customer's language (the words come with the data from the engine's
//! catalogue: `engine/locales/*.ftl`). No staff chrome: the shop's name, the
//! receipt, a PDF download. No script at all, works with JavaScript off,
//! prints cleanly, fits a phone.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::server_fns::receipts::open_receipt;
use crate::types::{PublicReceipt, ReceiptLinkPage, ReceiptLinkReply, Words};

#[component]
pub fn ReceiptLinkView() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let fresh_sent = move || query.read().get("fresh").is_some();
    // One fetch per page, whatever re-runs the view below: opening the link
    // counts against its rate limits. The page never hydrates (see
    // `crate::is_customer_page`); the serialized copy Leptos writes for a
    // browser is removed with every other script (server/src/http/customer_pages.rs).
    let page = crate::resource::resource(token, open_receipt);
    view! {
        <Suspense fallback=|| view! { <main id="main" class="customer"><p>"…"</p></main> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(ReceiptLinkReply { words, page }) => {
                        let lang = words.lang.clone();
                        let w = words.clone();
                        view! {
                            <Title text=words.get("page-title")/>
                            // `lang` is lifted onto <html> on the way out (customer_pages.rs).
                            <div class="customer-page" lang=lang>
                                {match page {
                                    ReceiptLinkPage::Receipt(r) => view! { <ReceiptView r=*r w=w/> }.into_any(),
                                    ReceiptLinkPage::Unavailable { shop_name, support_email } => {
                                        view! { <Unavailable shop_name support_email w fresh_sent=fresh_sent() token=token()/> }.into_any()
                                    }
                                    ReceiptLinkPage::Limited { shop_name } => view! {
                                        <header class="customer-brand"><p class="shop-name">{shop_name}</p></header>
                                        <main id="main" class="customer">
                                            <h1>{w.get("page-limited-heading")}</h1>
                                            <p>{w.get("page-limited-body")}</p>
                                        </main>
                                    }.into_any(),
                                }}
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! {
                        <div class="customer-page">
                            <main id="main" class="customer">
                                <h1>"Your receipt could not be shown"</h1>
                                <p role="alert">{e.to_string()}</p>
                            </main>
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Expired, revoked or unknown link: offer a fresh one by e-mail.
#[component]
fn Unavailable(
    shop_name: String,
    support_email: String,
    w: Words,
    fresh_sent: bool,
    token: String,
) -> impl IntoView {
    let ask = if fresh_sent {
        view! { <p role="status" class="notice ok">{w.get("page-fresh-sent")}</p> }.into_any()
    } else {
        view! {
            <p>{w.get("page-fresh-explain")}</p>
            <form method="post" action=format!("/r/{token}/fresh")>
                <button type="submit">{w.get("page-fresh-button")}</button>
            </form>
        }
        .into_any()
    };
    view! {
        <header class="customer-brand"><p class="shop-name">{shop_name}</p></header>
        <main id="main" class="customer">
            <h1>{w.get("page-unavailable-heading")}</h1>
            {ask}
            <p>{w.get("page-questions")}" "<a href=format!("mailto:{support_email}")>{support_email.clone()}</a></p>
        </main>
    }
}

#[component]
fn ReceiptView(r: PublicReceipt, w: Words) -> impl IntoView {
    let PublicReceipt {
        shop_name,
        logo_url,
        support_email,
        footer,
        order_number,
        placed_at,
        customer_name,
        billing_address,
        items,
        subtotal,
        discount,
        shipping,
        tax,
        total,
        pdf_url,
        link_expires: _,
    } = r;
    let logo = logo_url.map(|src| view! { <img class="shop-logo" src=src alt=""/> });
    let t = move |key: &str| w.get(key);
    let label = t.clone();
    view! {
        <header class="customer-brand">
            {logo}
            <p class="shop-name">{shop_name.clone()}</p>
        </header>
        <main id="main" class="customer">
            <h1>{t("receipt-title")}</h1>
            <dl class="facts">
                <dt>{t("receipt-order")}</dt><dd>{order_number}</dd>
                <dt>{t("receipt-date")}</dt><dd>{placed_at}</dd>
                <dt>{t("receipt-customer")}</dt><dd>{customer_name}</dd>
                {(!billing_address.is_empty()).then(|| view! {
                    <dt>{label("receipt-billed-to")}</dt>
                    <dd>{billing_address.into_iter().map(|l| view! { <span class="line">{l}</span> }).collect_view()}</dd>
                })}
            </dl>
            <div class="table-wrap" tabindex="0" role="region" aria-label=t("receipt-items")>
                <table class="receipt-table">
                    <caption>{t("receipt-items")}</caption>
                    <thead><tr>
                        <th scope="col">{t("receipt-item")}</th><th scope="col" class="num">{t("receipt-qty")}</th>
                        <th scope="col" class="num">{t("receipt-unit-price")}</th><th scope="col" class="num">{t("receipt-amount")}</th>
                    </tr></thead>
                    <tbody>
                        {items.into_iter().map(|i| view! {
                            <tr><td>{i.name}</td><td class="num">{i.quantity}</td><td class="num nowrap">{i.unit_price}</td><td class="num nowrap">{i.line_total}</td></tr>
                        }).collect_view()}
                    </tbody>
                    <tfoot>
                        <tr><th scope="row" colspan="3">{t("receipt-subtotal")}</th><td class="num nowrap">{subtotal}</td></tr>
                        {discount.map(|d| view! { <tr><th scope="row" colspan="3">{label("receipt-discount")}</th><td class="num nowrap">{d}</td></tr> })}
                        {shipping.map(|s| view! { <tr><th scope="row" colspan="3">{label("receipt-shipping")}</th><td class="num nowrap">{s}</td></tr> })}
                        <tr><th scope="row" colspan="3">{t("receipt-tax")}</th><td class="num nowrap">{tax}</td></tr>
                        <tr class="total"><th scope="row" colspan="3">{t("receipt-total")}</th><td class="num nowrap">{total}</td></tr>
                    </tfoot>
                </table>
            </div>
            <p class="actions no-print">
                <a class="button" href=pdf_url download>{t("page-download-pdf")}</a>
            </p>
            <p class="muted no-print">{t("page-link-expires")}</p>
        </main>
        <footer class="customer-footer">
            <p>{footer}</p>
            <p>{t("page-questions")}" "<a href=format!("mailto:{support_email}")>{support_email.clone()}</a></p>
        </footer>
    }
}
