//! The data a receipt is rendered from.

use serde::{Deserialize, Serialize};

use crate::money;

/// One order's receipt. All amounts are in the currency's minor units
/// (cents for `USD`, yen for `JPY`, fils for `KWD`).
///
/// Totals are rendered as given; [`Receipt::check_totals`] tells whether they
/// add up: `total = subtotal - discount + shipping + tax`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The shop's order number, shown verbatim (e.g. `"R-1001"`).
    pub order_number: String,
    /// When the order was placed: Unix time in milliseconds, UTC.
    pub placed_at: i64,
    /// ISO 4217 code, e.g. `"USD"`; see [`money::is_known_currency`].
    pub currency: String,
    pub items: Vec<LineItem>,
    pub subtotal_minor: i64,
    pub tax_minor: i64,
    pub shipping_minor: i64,
    /// The discount as a non-negative amount taken off the order; it is
    /// always shown as a negative amount (`-$5.00`).
    pub discount_minor: i64,
    pub total_minor: i64,
    pub customer_name: String,
    pub customer_email: String,
    /// Billing address, one entry per printed line.
    #[serde(default)]
    pub billing_address: Option<Vec<String>>,
    pub branding: Branding,
    /// The language of the receipt (BCP 47, e.g. `id`, `en-US`): its words,
    /// money and dates; see [`crate::i18n`]. Malformed or unknown: English.
    #[serde(default = "default_locale")]
    pub locale: String,
}

fn default_locale() -> String {
    crate::i18n::FALLBACK.to_owned()
}

fn default_time_zone() -> String {
    "UTC".to_owned()
}

/// One line of the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    pub name: String,
    pub quantity: u32,
    pub unit_price_minor: i64,
}

impl LineItem {
    /// `quantity × unit price`, computed in `i128` so it cannot overflow.
    pub fn line_total_minor(&self) -> i128 {
        i128::from(self.quantity) * i128::from(self.unit_price_minor)
    }
}

/// How the shop presents itself on its receipts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branding {
    pub shop_name: String,
    /// An `http(s)` URL of the shop's logo; other schemes are not shown.
    #[serde(default)]
    pub logo_url: Option<String>,
    pub support_email: String,
    #[serde(default)]
    pub footer_text: String,
    /// The language of orders that name none (`shop.default_locale`).
    #[serde(default)]
    pub default_locale: Option<String>,
    /// IANA time zone the receipt's dates are shown in (`shop.time_zone`).
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
}

/// Why a receipt's numbers are not consistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotalsError {
    #[error("unknown currency code {0:?}")]
    UnknownCurrency(String),
    #[error("a line item has a negative unit price")]
    NegativeUnitPrice,
    #[error("amounts must not be negative")]
    NegativeAmount,
    #[error("subtotal {given} does not equal the sum of the line items {computed}")]
    Subtotal { given: i64, computed: i128 },
    #[error("total {given} does not equal subtotal - discount + shipping + tax = {computed}")]
    Total { given: i64, computed: i128 },
}

impl Receipt {
    /// Checks the currency and that the totals add up. Rendering does not
    /// require this (it shows the numbers as given), but an API accepting
    /// receipts should call it.
    pub fn check_totals(&self) -> Result<(), TotalsError> {
        if !money::is_known_currency(&self.currency) {
            return Err(TotalsError::UnknownCurrency(self.currency.clone()));
        }
        if self.items.iter().any(|item| item.unit_price_minor < 0) {
            return Err(TotalsError::NegativeUnitPrice);
        }
        if [
            self.subtotal_minor,
            self.tax_minor,
            self.shipping_minor,
            self.discount_minor,
            self.total_minor,
        ]
        .iter()
        .any(|amount| *amount < 0)
        {
            return Err(TotalsError::NegativeAmount);
        }
        let computed: i128 = self.items.iter().map(LineItem::line_total_minor).sum();
        if computed != i128::from(self.subtotal_minor) {
            return Err(TotalsError::Subtotal {
                given: self.subtotal_minor,
                computed,
            });
        }
        let computed = i128::from(self.subtotal_minor) - i128::from(self.discount_minor)
            + i128::from(self.shipping_minor)
            + i128::from(self.tax_minor);
        if computed != i128::from(self.total_minor) {
            return Err(TotalsError::Total {
                given: self.total_minor,
                computed,
            });
        }
        Ok(())
    }

    /// A realistic example receipt, for template previews and tests.
    pub fn sample() -> Receipt {
        Receipt {
            order_number: "R-1001".to_owned(),
            placed_at: 1_714_572_180_000, // 2024-05-01 14:03 UTC
            currency: "USD".to_owned(),
            items: vec![
                LineItem {
                    name: "Organic cotton T-shirt (M, navy)".to_owned(),
                    quantity: 2,
                    unit_price_minor: 2_500,
                },
                LineItem {
                    name: "Canvas tote bag".to_owned(),
                    quantity: 1,
                    unit_price_minor: 1_299,
                },
            ],
            subtotal_minor: 6_299,
            tax_minor: 504,
            shipping_minor: 495,
            discount_minor: 500,
            total_minor: 6_798,
            customer_name: "Ada Lovelace".to_owned(),
            customer_email: "ada@example.com".to_owned(),
            billing_address: Some(vec![
                "Ada Lovelace".to_owned(),
                "12 St James's Square".to_owned(),
                "London SW1Y 4JH".to_owned(),
                "United Kingdom".to_owned(),
            ]),
            branding: Branding {
                shop_name: "Northwind Goods".to_owned(),
                logo_url: Some("https://shop.example.com/logo.png".to_owned()),
                support_email: "help@northwind.example.com".to_owned(),
                footer_text: "Thank you for shopping with us! Returns are accepted within 30 days."
                    .to_owned(),
                default_locale: None,
                time_zone: default_time_zone(),
            },
            locale: default_locale(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_totals_add_up() {
        assert_eq!(Receipt::sample().check_totals(), Ok(()));
    }

    #[test]
    fn inconsistent_totals_are_reported() {
        let mut receipt = Receipt::sample();
        receipt.total_minor += 1;
        assert!(matches!(
            receipt.check_totals(),
            Err(TotalsError::Total { .. })
        ));
        let mut receipt = Receipt::sample();
        receipt.subtotal_minor = 1;
        assert!(matches!(
            receipt.check_totals(),
            Err(TotalsError::Subtotal { .. })
        ));
        let mut receipt = Receipt::sample();
        receipt.currency = "XYZ".to_owned();
        assert!(matches!(
            receipt.check_totals(),
            Err(TotalsError::UnknownCurrency(_))
        ));
    }

    #[test]
    fn serde_round_trip() {
        use serde::Deserialize as _;
        let receipt = Receipt::sample();
        let value = minijinja::Value::from(minijinja::value::Serde(&receipt));
        let back = Receipt::deserialize(value).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, receipt);
    }
}
