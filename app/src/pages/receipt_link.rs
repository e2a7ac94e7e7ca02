//! `/r/{token}`: the customer's receipt behind a secure link. No staff
//! chrome: the shop's name, the receipt, a PDF download. Works with
//! JavaScript off, prints cleanly, fits a phone.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::server_fns::receipts::open_receipt;
use crate::types::{PublicReceipt, ReceiptLinkPage};

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
        <Title text="Your receipt"/>
        <div class="customer-page">
            <Suspense fallback=|| view! { <main id="main" class="customer"><p>"Loading your receipt…"</p></main> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(ReceiptLinkPage::Receipt(r)) => view! { <ReceiptView r=*r/> }.into_any(),
                        Ok(ReceiptLinkPage::Unavailable { shop_name, support_email }) => view! {
                            <header class="customer-brand"><p class="shop-name">{shop_name}</p></header>
                            <main id="main" class="customer">
                                <h1>"This receipt link has expired or is not valid"</h1>
                                {if fresh_sent() {
                                    view! {
                                        <p role="status" class="notice ok">
                                            "If this link belongs to an order, a fresh link is on its way to the email address on that order."
                                        </p>
                                    }.into_any()
                                } else {
                                    view! {
                                        <p>"Links to receipts work for a limited time. We can send a fresh one to the email address on the order."</p>
                                        <form method="post" action=move || format!("/r/{}/fresh", token())>
                                            <button type="submit">"Send me a fresh link"</button>
                                        </form>
                                    }.into_any()
                                }}
                                <p>"Questions? Write to "<a href=format!("mailto:{support_email}")>{support_email.clone()}</a>"."</p>
                            </main>
                        }.into_any(),
                        Ok(ReceiptLinkPage::Limited { shop_name }) => view! {
                            <header class="customer-brand"><p class="shop-name">{shop_name}</p></header>
                            <main id="main" class="customer">
                                <h1>"Too many requests"</h1>
                                <p>"Please wait a minute and try again."</p>
                            </main>
                        }.into_any(),
                        Err(e) => view! {
                            <main id="main" class="customer">
                                <h1>"Your receipt could not be shown"</h1>
                                <p role="alert">{e.to_string()}</p>
                            </main>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn ReceiptView(r: PublicReceipt) -> impl IntoView {
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
        link_expires,
    } = r;
    let logo = logo_url.map(|src| view! { <img class="shop-logo" src=src alt=""/> });
    view! {
        <header class="customer-brand">
            {logo}
            <p class="shop-name">{shop_name.clone()}</p>
        </header>
        <main id="main" class="customer">
            <h1>"Receipt for order "{order_number.clone()}</h1>
            <dl class="facts">
                <dt>"Order"</dt><dd>{order_number}</dd>
                <dt>"Date"</dt><dd>{placed_at}</dd>
                <dt>"Customer"</dt><dd>{customer_name}</dd>
                {(!billing_address.is_empty()).then(|| view! {
                    <dt>"Billed to"</dt>
                    <dd>{billing_address.into_iter().map(|l| view! { <span class="line">{l}</span> }).collect_view()}</dd>
                })}
            </dl>
            <div class="table-wrap">
                <table class="receipt-table">
                    <caption>"Items"</caption>
                    <thead><tr>
                        <th scope="col">"Item"</th><th scope="col" class="num">"Qty"</th>
                        <th scope="col" class="num">"Unit price"</th><th scope="col" class="num">"Amount"</th>
                    </tr></thead>
                    <tbody>
                        {items.into_iter().map(|i| view! {
                            <tr><td>{i.name}</td><td class="num">{i.quantity}</td><td class="num nowrap">{i.unit_price}</td><td class="num nowrap">{i.line_total}</td></tr>
                        }).collect_view()}
                    </tbody>
                    <tfoot>
                        <tr><th scope="row" colspan="3">"Subtotal"</th><td class="num nowrap">{subtotal}</td></tr>
                        {discount.map(|d| view! { <tr><th scope="row" colspan="3">"Discount"</th><td class="num nowrap">{d}</td></tr> })}
                        {shipping.map(|s| view! { <tr><th scope="row" colspan="3">"Shipping"</th><td class="num nowrap">{s}</td></tr> })}
                        <tr><th scope="row" colspan="3">"Tax"</th><td class="num nowrap">{tax}</td></tr>
                        <tr class="total"><th scope="row" colspan="3">"Total"</th><td class="num nowrap">{total}</td></tr>
                    </tfoot>
                </table>
            </div>
            <p class="actions no-print">
                <a class="button" href=pdf_url download>"Download PDF"</a>
            </p>
            <p class="muted no-print">"This personal link works until "{link_expires}". To print, use your browser's print command."</p>
        </main>
        <footer class="customer-footer">
            <p>{footer}</p>
            <p>"Questions? Write to "<a href=format!("mailto:{support_email}")>{support_email.clone()}</a>"."</p>
        </footer>
    }
}
