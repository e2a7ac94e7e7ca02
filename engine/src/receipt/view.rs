//! The template context: a [`Receipt`] with every amount and date already
//! formatted, plus column widths for the plain-text layout.
//!
//! Variables available to templates (`receipt.html.j2`, `receipt.txt.j2`):
//!
//! | variable | example |
//! | --- | --- |
//! | `shop.name`, `shop.logo_url` (absent unless `http(s)`), `shop.support_email`, `shop.footer_text` | |
//! | `lang` | the receipt's language tag, `en`, `id-ID` |
//! | `order_number` | `R-1001` |
//! | `placed_at` | date and time in the shop's zone and the receipt's language: `May 1, 2024, 2:03 PM UTC` |
//! | `placed_at_date` | `May 1, 2024`, `1 Mei 2024` |
//! | `placed_at_ms` | `1714572180000` |
//! | `currency` | `USD` |
//! | `customer.name`, `customer.email` | |
//! | `billing_address` | list of lines, empty when there is none |
//! | `items` | list of `{name, quantity, unit_price, line_total}` |
//! | `item_count` | sum of quantities |
//! | `subtotal`, `discount`, `shipping`, `tax`, `total` | formatted per CLDR for the language, e.g. `$12.34`, `Rp 150.000`; `discount` is negative: `-$5.00` |
//! | `has_discount`, `has_shipping` | whether those amounts are non-zero |
//! | `cols.name`, `cols.qty`, `cols.price`, `cols.amount`, `cols.label`, `cols.width` | plain-text column widths |
//! | `cols.rule` | a `-` line `cols.width` long |
//!
//! Text templates also get the filters `ljust(width)`, `rjust(width)` and
//! `wrap(width)` (a list of lines), see [`super::render`]. Every template
//! gets `t(key, name=value, …)`: the catalogue message `key` in the
//! receipt's language (`engine/locales/*.ftl`, see [`crate::i18n`]).

use serde::Serialize;

use super::RenderError;
use super::model::Receipt;
use crate::i18n::Lang;

/// Target width of the plain-text receipt, in characters.
pub(super) const TEXT_WIDTH: usize = 72;
/// Narrowest the item-name column of the plain-text receipt gets.
const MIN_NAME_COLUMN: usize = 16;

#[derive(Debug, Serialize)]
pub(super) struct ReceiptView {
    pub lang: String,
    /// The catalogue language (`en`, `id`); not for templates.
    #[serde(skip)]
    pub language: Lang,
    pub shop: ShopView,
    pub order_number: String,
    pub placed_at: String,
    pub placed_at_date: String,
    pub placed_at_ms: i64,
    pub currency: &'static str,
    pub customer: CustomerView,
    pub billing_address: Vec<String>,
    pub items: Vec<ItemView>,
    pub item_count: u64,
    pub subtotal: String,
    pub discount: String,
    pub shipping: String,
    pub tax: String,
    pub total: String,
    pub has_discount: bool,
    pub has_shipping: bool,
    pub cols: TextColumns,
}

#[derive(Debug, Serialize)]
pub(super) struct ShopView {
    pub name: String,
    pub logo_url: Option<String>,
    pub support_email: String,
    pub footer_text: String,
}

#[derive(Debug, Serialize)]
pub(super) struct CustomerView {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Serialize)]
pub(super) struct ItemView {
    pub name: String,
    pub quantity: u32,
    pub unit_price: String,
    pub line_total: String,
}

#[derive(Debug, Serialize)]
pub(super) struct TextColumns {
    pub name: usize,
    pub qty: usize,
    pub price: usize,
    pub amount: usize,
    pub label: usize,
    pub width: usize,
    pub rule: String,
}

impl ReceiptView {
    pub(super) fn new(receipt: &Receipt) -> Result<Self, RenderError> {
        Self::styled(receipt, false)
    }

    /// Builds the view; with `codes`, amounts carry the ISO code instead of
    /// the symbol (`IDR 150.000`: the PDF, when its font cannot draw a symbol).
    pub(super) fn styled(receipt: &Receipt, codes: bool) -> Result<Self, RenderError> {
        let lang = Lang::from_tag(&receipt.locale).unwrap_or_default();
        let money = lang
            .money(&receipt.currency)
            .map_err(|_| RenderError::UnknownCurrency(receipt.currency.clone()))?;
        let whole = money.whole_amounts(
            receipt
                .items
                .iter()
                .flat_map(|i| [i128::from(i.unit_price_minor), i.line_total_minor()])
                .chain(
                    [
                        receipt.subtotal_minor,
                        receipt.discount_minor,
                        receipt.shipping_minor,
                        receipt.tax_minor,
                        receipt.total_minor,
                    ]
                    .map(i128::from),
                ),
        );
        let fmt = |amount: i128| {
            if codes {
                money.format_code(amount, whole)
            } else {
                money.format(amount, whole)
            }
        };
        let code = crate::money::lookup(&receipt.currency)
            .map(|info| info.code)
            .ok_or_else(|| RenderError::UnknownCurrency(receipt.currency.clone()))?;
        Ok(Self::with_formatter(receipt, lang, code, fmt))
    }

    fn with_formatter(
        receipt: &Receipt,
        lang: Lang,
        code: &'static str,
        fmt: impl Fn(i128) -> String,
    ) -> Self {
        let items: Vec<ItemView> = receipt
            .items
            .iter()
            .map(|item| ItemView {
                name: clean_line(&item.name),
                quantity: item.quantity,
                unit_price: fmt(i128::from(item.unit_price_minor)),
                line_total: fmt(item.line_total_minor()),
            })
            .collect();
        let subtotal = fmt(i128::from(receipt.subtotal_minor));
        let discount = fmt(-i128::from(receipt.discount_minor.unsigned_abs()));
        let shipping = fmt(i128::from(receipt.shipping_minor));
        let tax = fmt(i128::from(receipt.tax_minor));
        let total = fmt(i128::from(receipt.total_minor));
        let cols = TextColumns::fit(
            &items,
            [&subtotal, &discount, &shipping, &tax, &total],
            &lang,
        );
        let zone = crate::i18n::time_zone_named(&receipt.branding.time_zone)
            .unwrap_or(jiff::tz::TimeZone::UTC);
        let dates = lang.dates();
        let (placed_at, placed_at_date) = match &dates {
            Some(d) => (
                d.date_time(receipt.placed_at, &zone),
                d.date(receipt.placed_at, &zone),
            ),
            None => (
                format_timestamp(receipt.placed_at),
                format_date(receipt.placed_at),
            ),
        };
        ReceiptView {
            lang: lang.tag(),
            language: lang,
            shop: ShopView {
                name: clean_line(&receipt.branding.shop_name),
                logo_url: receipt
                    .branding
                    .logo_url
                    .as_deref()
                    .map(str::trim)
                    .filter(|url| is_web_url(url))
                    .map(str::to_owned),
                support_email: clean_line(&receipt.branding.support_email),
                footer_text: clean_text(&receipt.branding.footer_text),
            },
            order_number: clean_line(&receipt.order_number),
            placed_at,
            placed_at_date,
            placed_at_ms: receipt.placed_at,
            currency: code,
            customer: CustomerView {
                name: clean_line(&receipt.customer_name),
                email: clean_line(&receipt.customer_email),
            },
            billing_address: receipt
                .billing_address
                .iter()
                .flatten()
                .map(|line| clean_line(line))
                .filter(|line| !line.is_empty())
                .collect(),
            item_count: receipt
                .items
                .iter()
                .map(|item| u64::from(item.quantity))
                .sum(),
            items,
            subtotal,
            discount,
            shipping,
            tax,
            total,
            has_discount: receipt.discount_minor != 0,
            has_shipping: receipt.shipping_minor != 0,
            cols,
        }
    }
}

impl TextColumns {
    /// Columns wide enough for every value and for the headings in `lang`.
    fn fit(items: &[ItemView], totals: [&String; 5], lang: &Lang) -> Self {
        let heading = |key: &str| char_len(&lang.t(key, &[]));
        let qty = items
            .iter()
            .map(|item| item.quantity.to_string().len())
            .chain([heading("receipt-qty")])
            .max()
            .unwrap_or(3);
        let price = items
            .iter()
            .map(|item| char_len(&item.unit_price))
            .chain([heading("receipt-unit-price")])
            .max()
            .unwrap_or(10);
        let amount = items
            .iter()
            .map(|item| char_len(&item.line_total))
            .chain(totals.iter().map(|total| char_len(total)))
            .chain([heading("receipt-amount")])
            .max()
            .unwrap_or(6);
        let name = TEXT_WIDTH
            .saturating_sub(qty + price + amount + 6)
            .max(MIN_NAME_COLUMN);
        let width = name + qty + price + amount + 6;
        TextColumns {
            name,
            qty,
            price,
            amount,
            label: width - amount - 2,
            width,
            rule: "-".repeat(width),
        }
    }
}

/// One line of text: control characters (newlines included) become spaces,
/// and the ends are trimmed.
pub(super) fn clean_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Multi-line text: line breaks are kept (`\r\n` becomes `\n`), other
/// control characters become spaces.
pub(super) fn clean_text(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

fn char_len(text: &str) -> usize {
    text.chars().count()
}

fn is_web_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
/// Howard Hinnant's `civil_from_days`; valid for every `i64` day count that
/// a millisecond `i64` timestamp can produce.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let day_of_year = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * day_of_year + 2) / 153; // [0, 11]
    let day = day_of_year - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

struct DateTime {
    year: i64,
    month: u32,
    day: u32,
    hour: i64,
    minute: i64,
}

fn split_timestamp(unix_ms: i64) -> DateTime {
    const MS_PER_DAY: i64 = 86_400_000;
    let days = unix_ms.div_euclid(MS_PER_DAY);
    let ms_of_day = unix_ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    DateTime {
        year,
        month,
        day,
        hour: ms_of_day / 3_600_000,
        minute: (ms_of_day / 60_000) % 60,
    }
}

/// `2024-05-01 14:03 UTC`
pub(super) fn format_timestamp(unix_ms: i64) -> String {
    let t = split_timestamp(unix_ms);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year, t.month, t.day, t.hour, t.minute
    )
}

/// `May 1, 2024`
pub(super) fn format_date(unix_ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let t = split_timestamp(unix_ms);
    let index = usize::try_from(t.month.saturating_sub(1)).unwrap_or(0);
    let month = MONTHS.get(index).copied().unwrap_or("January");
    format!("{month} {}, {}", t.day, t.year)
}

/// Word-wraps `text` into lines no wider than `max` as measured by
/// `char_width`. Runs of whitespace (newlines included) become one space;
/// words wider than a line are broken between characters. Always returns at
/// least one (possibly empty) line, and every line holds at least one
/// character, so it terminates for any `max`.
pub(super) fn wrap(text: &str, max: f32, char_width: impl Fn(char) -> f32) -> Vec<String> {
    let space = char_width(' ');
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_width = 0.0f32;
    for word in text.split_whitespace() {
        let word_width: f32 = word.chars().map(&char_width).sum();
        if !line.is_empty() {
            if line_width + space + word_width <= max {
                line.push(' ');
                line.push_str(word);
                line_width += space + word_width;
                continue;
            }
            lines.push(std::mem::take(&mut line));
            line_width = 0.0;
        }
        if word_width <= max {
            line.push_str(word);
            line_width = word_width;
            continue;
        }
        // A word longer than a whole line: break it between characters.
        for ch in word.chars() {
            let w = char_width(ch);
            if !line.is_empty() && line_width + w > max {
                lines.push(std::mem::take(&mut line));
                line_width = 0.0;
            }
            line.push(ch);
            line_width += w;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(format_timestamp(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_timestamp(1_714_572_180_000), "2024-05-01 14:03 UTC");
        assert_eq!(format_date(1_714_572_180_000), "May 1, 2024");
        // 2000-02-29 23:59:59.999
        assert_eq!(format_timestamp(951_868_799_999), "2000-02-29 23:59 UTC");
        assert_eq!(format_timestamp(-1), "1969-12-31 23:59 UTC");
        // Extremes must not panic.
        let _ = format_timestamp(i64::MAX);
        let _ = format_timestamp(i64::MIN);
        let _ = format_date(i64::MIN);
    }

    #[test]
    fn wrapping() {
        let one = |_: char| 1.0;
        assert_eq!(wrap("", 10.0, one), vec![String::new()]);
        assert_eq!(wrap("a b c", 10.0, one), vec!["a b c"]);
        assert_eq!(
            wrap("hello big world", 9.0, one),
            vec!["hello big", "world"]
        );
        assert_eq!(wrap("abcdefghij", 4.0, one), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("x abcdefgh", 4.0, one), vec!["x", "abcd", "efgh"]);
        // Zero or negative width still makes progress.
        assert_eq!(wrap("ab", 0.0, one), vec!["a", "b"]);
        assert_eq!(wrap("a\n\tb", 10.0, one), vec!["a b"]);
    }

    #[test]
    fn web_urls_only() {
        assert!(is_web_url("https://example.com/logo.png"));
        assert!(is_web_url("HTTP://example.com/logo.png"));
        assert!(!is_web_url("javascript:alert(1)"));
        assert!(!is_web_url("data:image/png;base64,xx"));
        assert!(!is_web_url("https://exa mple.com"));
        assert!(!is_web_url("ht"));
        assert!(!is_web_url("https:/é"));
    }
}
