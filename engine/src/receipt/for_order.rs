//! The receipt of a stored order, with the shop's branding from configuration:
//! what the send worker mails and what the receipt pages and the API show.

use super::{Branding, LineItem, Receipt};
use crate::config::Config;
use crate::orders::Order;

impl Branding {
    /// The shop's branding from configuration.
    pub fn from_config(config: &Config) -> Self {
        Self {
            shop_name: config.shop.name.clone(),
            logo_url: config.shop.logo_url.clone(),
            support_email: config.shop.support_email.clone(),
            footer_text: config.shop.footer.clone(),
            default_locale: config.shop.default_locale.clone(),
            time_zone: config.shop.time_zone.clone(),
        }
    }
}

impl Receipt {
    /// The receipt model for an order, in the order's language
    /// (`customer.locale`), else the shop's default, else English. The link
    /// page may set [`Receipt::locale`] from the browser when neither is set.
    pub fn for_order(order: &Order, branding: &Branding) -> Self {
        Self {
            order_number: order.order_number.clone(),
            placed_at: order.placed_at,
            currency: order.currency.clone(),
            items: order
                .items()
                .into_iter()
                .map(|i| LineItem {
                    name: i.name,
                    quantity: i.quantity,
                    unit_price_minor: i.unit_price,
                })
                .collect(),
            subtotal_minor: order.subtotal_minor,
            tax_minor: order.tax_minor,
            shipping_minor: order.shipping_minor,
            discount_minor: order.discount_minor,
            total_minor: order.total_minor,
            customer_name: order.customer_name.clone(),
            customer_email: order.customer_email.clone(),
            billing_address: order.billing_lines(),
            branding: branding.clone(),
            locale: crate::i18n::resolve(
                order.customer_locale.as_deref(),
                branding.default_locale.as_deref(),
                None,
            )
            .tag(),
        }
    }
}
