//! The order a shop posts, and its validation. Every problem is reported
//! against the field it concerns, all at once.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

use super::address::parse_mailbox_for;
use crate::money::is_known_currency;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// Signed in to the shop: can get an account notification.
    LoggedIn,
    /// Signed in through a social login: treated like a guest for fallbacks.
    Social,
    /// No account: reached by secure link.
    Guest,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::LoggedIn => "logged_in",
            AccountKind::Social => "social",
            AccountKind::Guest => "guest",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            AccountKind::LoggedIn,
            AccountKind::Social,
            AccountKind::Guest,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    /// The shop's order number: letters, digits and `- _ . / # :`.
    #[schema(min_length = 1, max_length = 64, pattern = r"^[A-Za-z0-9_./#:-]+$")]
    pub order_number: String,
    /// RFC 3339, e.g. `2026-11-27T21:00:00Z`.
    #[schema(format = DateTime)]
    pub placed_at: String,
    /// ISO 4217 code.
    #[schema(min_length = 3, max_length = 3, example = "EUR")]
    pub currency: String,
    #[schema(min_items = 1, max_items = 500)]
    pub items: Vec<ItemInput>,
    pub totals: TotalsInput,
    pub customer: CustomerInput,
    /// The shopper's IPv4 or IPv6 address.
    #[schema(example = "192.0.2.1")]
    pub client_ip: Option<String>,
    pub billing_address: Option<BillingAddress>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    #[schema(minimum = 1, maximum = 10000)]
    pub quantity: u32,
    /// Minor units (cents).
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub unit_price: i64,
}

/// All amounts in minor units; `total = subtotal − discount + shipping + tax`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotalsInput {
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub subtotal: i64,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub tax: i64,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub shipping: i64,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub discount: i64,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub total: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// E.164, e.g. `+4915112345678`.
    #[schema(pattern = r"^\+[1-9][0-9]{6,14}$")]
    pub phone: Option<String>,
    pub account_kind: AccountKind,
    #[schema(min_length = 1, max_length = 128)]
    pub customer_ref: Option<String>,
    /// The customer agreed to business messages on WhatsApp (to `phone`).
    /// Without it Rebound never sends one. Default `false`.
    #[serde(default)]
    pub whatsapp_opt_in: bool,
    /// The customer's language, BCP 47 (`id`, `en-US`): receipts, links and
    /// messages use it. Default: the shop's `shop.default_locale`.
    #[serde(default)]
    #[schema(max_length = 35, example = "id")]
    pub locale: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingAddress {
    #[schema(max_items = 10)]
    pub lines: Vec<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(pattern = "^[A-Za-z]{2}$")]
    pub country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// An order that passed validation, normalised (the email one mailbox,
/// lower-cased, its domain in A-labels; times parsed).
#[derive(Debug, Clone)]
pub struct ValidOrder {
    pub order_number: String,
    pub placed_at: i64,
    pub currency: String,
    pub items: Vec<ItemInput>,
    pub totals: TotalsInput,
    pub customer_email: String,
    pub customer_name: String,
    pub customer_phone: Option<String>,
    pub account_kind: AccountKind,
    pub customer_ref: Option<String>,
    /// WhatsApp consent (only kept with a phone number).
    pub whatsapp_opt_in: bool,
    /// `customer.locale` in canonical form (`id-ID`).
    pub customer_locale: Option<String>,
    pub client_ip: Option<String>,
    pub billing_address: Option<BillingAddress>,
}

const MAX_ITEMS: usize = 500;
const MAX_AMOUNT: i64 = 1_000_000_000_000; // 10^12 minor units

impl OrderInput {
    /// Validates for a chain without SMTPUTF8 (a non-ASCII local part is refused).
    pub fn validate(self) -> Result<ValidOrder, Vec<FieldError>> {
        self.validate_for(false)
    }

    /// Validates; `smtputf8`: a sender pool in the chain offers SMTPUTF8, so a
    /// non-ASCII local part can be sent (see `orders::needs_smtputf8`).
    pub fn validate_for(self, smtputf8: bool) -> Result<ValidOrder, Vec<FieldError>> {
        let mut errs = Vec::new();
        let mut bad = |field: &str, message: &str| {
            errs.push(FieldError {
                field: field.into(),
                message: message.into(),
            })
        };

        let number = self.order_number.trim().to_string();
        if number.is_empty() || number.len() > 64 {
            bad("order_number", "must be 1 to 64 characters");
        } else if !number
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./#:".contains(c))
        {
            bad(
                "order_number",
                "may contain only letters, digits and - _ . / # :",
            );
        }
        let placed_at = match chrono::DateTime::parse_from_rfc3339(self.placed_at.trim()) {
            Ok(t) => t.timestamp_millis(),
            Err(_) => {
                bad(
                    "placed_at",
                    "must be an RFC 3339 time such as 2026-11-27T21:00:00Z",
                );
                0
            }
        };
        let currency = self.currency.trim().to_ascii_uppercase();
        if !is_known_currency(&currency) {
            bad(
                "currency",
                "must be an ISO 4217 currency code such as EUR or USD",
            );
        }
        if self.items.is_empty() || self.items.len() > MAX_ITEMS {
            bad("items", "must have 1 to 500 items");
        }
        let mut computed: i128 = 0;
        for (i, item) in self.items.iter().enumerate() {
            let name_len = item.name.trim().chars().count();
            if name_len == 0 || name_len > 200 {
                bad(&format!("items[{i}].name"), "must be 1 to 200 characters");
            } else if has_stray_control(&item.name) {
                bad(&format!("items[{i}].name"), CONTROL);
            }
            if item.quantity == 0 || item.quantity > 10_000 {
                bad(&format!("items[{i}].quantity"), "must be 1 to 10000");
            }
            if !(0..=MAX_AMOUNT).contains(&item.unit_price) {
                bad(
                    &format!("items[{i}].unit_price"),
                    "must be 0 to 10^12 minor units",
                );
            }
            computed += i128::from(item.quantity) * i128::from(item.unit_price);
        }
        let t = &self.totals;
        for (field, v) in [
            ("totals.subtotal", t.subtotal),
            ("totals.tax", t.tax),
            ("totals.shipping", t.shipping),
            ("totals.discount", t.discount),
            ("totals.total", t.total),
        ] {
            if !(0..=MAX_AMOUNT).contains(&v) {
                bad(field, "must be 0 to 10^12 minor units");
            }
        }
        if i128::from(t.subtotal) != computed {
            bad(
                "totals.subtotal",
                &format!("must equal the sum of the items ({computed})"),
            );
        }
        let expected_total = i128::from(t.subtotal) - i128::from(t.discount)
            + i128::from(t.shipping)
            + i128::from(t.tax);
        if i128::from(t.total) != expected_total {
            bad(
                "totals.total",
                &format!("must equal subtotal − discount + shipping + tax ({expected_total})"),
            );
        }

        let email = match parse_mailbox_for(&self.customer.email, smtputf8) {
            Ok(e) => e,
            Err(problem) => {
                bad("customer.email", problem.message());
                String::new()
            }
        };
        let name = self.customer.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 200 {
            bad("customer.name", "must be 1 to 200 characters");
        } else if has_stray_control(&name) {
            bad("customer.name", CONTROL);
        }
        let phone = self
            .customer
            .phone
            .map(|p| p.trim().replace([' ', '-'], ""));
        if let Some(p) = &phone
            && !is_e164(p)
        {
            bad(
                "customer.phone",
                "must be an E.164 number such as +4915112345678",
            );
        }
        if let Some(r) = &self.customer.customer_ref {
            if r.is_empty() || r.len() > 128 {
                bad("customer.customer_ref", "must be 1 to 128 characters");
            } else if has_stray_control(r) {
                bad("customer.customer_ref", CONTROL);
            }
        }
        let locale = match self
            .customer
            .locale
            .as_deref()
            .map(crate::i18n::canonical_tag)
        {
            Some(None) => {
                bad(
                    "customer.locale",
                    "must be a BCP 47 language tag such as id or en-US",
                );
                None
            }
            Some(tag) => tag,
            None => None,
        };
        if let Some(ip) = &self.client_ip
            && ip.trim().parse::<IpAddr>().is_err()
        {
            bad("client_ip", "must be an IPv4 or IPv6 address");
        }
        if let Some(b) = &self.billing_address {
            if b.lines.len() > 10 || b.lines.iter().any(|l| l.chars().count() > 200) {
                bad(
                    "billing_address.lines",
                    "at most 10 lines of 200 characters",
                );
            }
            for (i, line) in b.lines.iter().enumerate() {
                if has_stray_control(line) {
                    bad(&format!("billing_address.lines[{i}]"), CONTROL);
                }
            }
            if let Some(c) = &b.country
                && (c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()))
            {
                bad(
                    "billing_address.country",
                    "must be an ISO 3166 two-letter code",
                );
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        // Consent without a number to message is no consent to act on.
        let whatsapp_opt_in = self.customer.whatsapp_opt_in && phone.is_some();
        Ok(ValidOrder {
            order_number: number,
            placed_at,
            currency,
            items: self
                .items
                .into_iter()
                .map(|i| ItemInput {
                    name: i.name.trim().to_string(),
                    ..i
                })
                .collect(),
            totals: self.totals,
            customer_email: email,
            customer_name: name,
            customer_phone: phone,
            account_kind: self.customer.account_kind,
            customer_ref: self.customer.customer_ref,
            whatsapp_opt_in,
            customer_locale: locale,
            client_ip: self.client_ip.map(|s| s.trim().to_string()),
            billing_address: self.billing_address,
        })
    }
}

const CONTROL: &str = "must not contain control characters (NUL and the other C0 controls; TAB, CR and LF are allowed)";

/// NUL and the other C0 controls save TAB, CR and LF: no text a shop sends
/// means them, PostgreSQL cannot store a NUL, and both backends must answer alike.
fn has_stray_control(s: &str) -> bool {
    s.chars()
        .any(|c| c < '\u{20}' && !matches!(c, '\t' | '\r' | '\n'))
}

fn is_e164(p: &str) -> bool {
    let digits = p.strip_prefix('+').unwrap_or("");
    (7..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> OrderInput {
        OrderInput {
            order_number: "A-1001".into(),
            placed_at: "2026-11-27T21:00:00Z".into(),
            currency: "eur".into(),
            items: vec![
                ItemInput {
                    name: "Mug".into(),
                    quantity: 2,
                    unit_price: 1250,
                },
                ItemInput {
                    name: "Tea".into(),
                    quantity: 1,
                    unit_price: 499,
                },
            ],
            totals: TotalsInput {
                subtotal: 2999,
                tax: 570,
                shipping: 495,
                discount: 300,
                total: 3764,
            },
            customer: CustomerInput {
                email: "Jane@Example.com".into(),
                name: "Jane".into(),
                phone: Some("+49 151 1234567".into()),
                account_kind: AccountKind::Guest,
                customer_ref: None,
                whatsapp_opt_in: false,
                locale: None,
            },
            client_ip: Some("203.0.113.7".into()),
            billing_address: None,
        }
    }

    #[test]
    fn a_good_order_validates_and_normalises() {
        let v = sample().validate().expect("valid");
        assert_eq!(v.customer_email, "jane@example.com");
        assert_eq!(v.currency, "EUR");
        assert_eq!(v.customer_phone.as_deref(), Some("+491511234567"));
        assert_eq!(v.placed_at, 1_795_813_200_000);
    }

    #[test]
    fn whatsapp_consent_defaults_to_no_and_needs_a_phone() {
        let json =
            serde_json::json!({"email": "a@example.com", "name": "A", "account_kind": "guest"});
        let c: CustomerInput = serde_json::from_value(json).expect("customer");
        assert!(!c.whatsapp_opt_in);
        let mut o = sample();
        o.customer.whatsapp_opt_in = true;
        assert!(o.clone().validate().expect("valid").whatsapp_opt_in);
        o.customer.phone = None;
        assert!(!o.validate().expect("valid").whatsapp_opt_in);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut o = sample();
        o.order_number = "".into();
        o.currency = "EURO".into();
        o.items[0].quantity = 0;
        o.totals.total = 1;
        o.customer.email = "not-an-email".into();
        o.customer.phone = Some("12345".into());
        o.client_ip = Some("999.1.1.1".into());
        o.placed_at = "yesterday".into();
        let errs = o.validate().expect_err("invalid");
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "order_number",
            "placed_at",
            "currency",
            "items[0].quantity",
            "totals.subtotal",
            "totals.total",
            "customer.email",
            "customer.phone",
            "client_ip",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }
}
