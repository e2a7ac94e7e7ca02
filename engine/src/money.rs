//! Money formatting in minor units, per ISO 4217.
//!
//! # Style
//!
//! Every amount is rendered in one consistent, English-style format:
//!
//! * digits grouped by thousands with `,` and a `.` decimal separator,
//! * exactly as many decimals as the currency's ISO 4217 minor-unit exponent
//!   (`JPY` 0, `USD` 2, `KWD` 3, `CLF` 4),
//! * prefixed with a currency *symbol* only when that symbol is unambiguous
//!   (`$` is US dollars only, `€`, `£`, `¥` is yen only, `₹`, …); dollars,
//!   yuan and others that share a sign use a qualified symbol (`CA$`, `A$`,
//!   `CN¥`, `HK$`, …, as in CLDR's English data),
//! * every other currency is prefixed with its ISO code and a space
//!   (`CHF 12.50`, `KWD 1.234`),
//! * negative amounts put the minus sign first: `-$5.00`, `-KWD 0.500`.
//!
//! [`format_minor_code`] gives the code style for every currency
//! (`USD 12.34`), which is what the PDF falls back to when the built-in font
//! cannot draw a symbol.
//!
//! Codes are matched case-insensitively (`usd` is `USD`); callers that store
//! codes should store the canonical upper-case [`CurrencyInfo::code`].

use std::fmt;

/// What this module knows about one ISO 4217 currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrencyInfo {
    /// Upper-case ISO 4217 alphabetic code, e.g. `"USD"`.
    pub code: &'static str,
    /// Number of digits after the decimal point (the minor-unit exponent).
    pub exponent: u8,
    /// An unambiguous symbol used as a prefix, if the currency has one.
    pub symbol: Option<&'static str>,
}

/// An amount could not be formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCurrency(pub String);

impl fmt::Display for UnknownCurrency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown ISO 4217 currency code {:?}", self.0)
    }
}

impl std::error::Error for UnknownCurrency {}

const fn c(code: &'static str, exponent: u8, symbol: Option<&'static str>) -> CurrencyInfo {
    CurrencyInfo {
        code,
        exponent,
        symbol,
    }
}

/// Active ISO 4217 currencies (funds included, precious metals, testing and
/// "no currency" codes such as `XAU`, `XTS`, `XXX`, `XDR` excluded), sorted by
/// code. Exponents follow the ISO 4217 list.
static CURRENCIES: &[CurrencyInfo] = &[
    c("AED", 2, None),
    c("AFN", 2, None),
    c("ALL", 2, None),
    c("AMD", 2, None),
    c("ANG", 2, None),
    c("AOA", 2, None),
    c("ARS", 2, None),
    c("AUD", 2, Some("A$")),
    c("AWG", 2, None),
    c("AZN", 2, None),
    c("BAM", 2, None),
    c("BBD", 2, None),
    c("BDT", 2, None),
    c("BGN", 2, None),
    c("BHD", 3, None),
    c("BIF", 0, None),
    c("BMD", 2, None),
    c("BND", 2, None),
    c("BOB", 2, None),
    c("BOV", 2, None),
    c("BRL", 2, Some("R$")),
    c("BSD", 2, None),
    c("BTN", 2, None),
    c("BWP", 2, None),
    c("BYN", 2, None),
    c("BZD", 2, None),
    c("CAD", 2, Some("CA$")),
    c("CDF", 2, None),
    c("CHE", 2, None),
    c("CHF", 2, None),
    c("CHW", 2, None),
    c("CLF", 4, None),
    c("CLP", 0, None),
    c("CNY", 2, Some("CN¥")),
    c("COP", 2, None),
    c("COU", 2, None),
    c("CRC", 2, None),
    c("CUC", 2, None),
    c("CUP", 2, None),
    c("CVE", 2, None),
    c("CZK", 2, None),
    c("DJF", 0, None),
    c("DKK", 2, None),
    c("DOP", 2, None),
    c("DZD", 2, None),
    c("EGP", 2, None),
    c("ERN", 2, None),
    c("ETB", 2, None),
    c("EUR", 2, Some("€")),
    c("FJD", 2, None),
    c("FKP", 2, None),
    c("GBP", 2, Some("£")),
    c("GEL", 2, None),
    c("GHS", 2, None),
    c("GIP", 2, None),
    c("GMD", 2, None),
    c("GNF", 0, None),
    c("GTQ", 2, None),
    c("GYD", 2, None),
    c("HKD", 2, Some("HK$")),
    c("HNL", 2, None),
    c("HTG", 2, None),
    c("HUF", 2, None),
    c("IDR", 2, None),
    c("ILS", 2, Some("₪")),
    c("INR", 2, Some("₹")),
    c("IQD", 3, None),
    c("IRR", 2, None),
    c("ISK", 0, None),
    c("JMD", 2, None),
    c("JOD", 3, None),
    c("JPY", 0, Some("¥")),
    c("KES", 2, None),
    c("KGS", 2, None),
    c("KHR", 2, None),
    c("KMF", 0, None),
    c("KPW", 2, None),
    c("KRW", 0, Some("₩")),
    c("KWD", 3, None),
    c("KYD", 2, None),
    c("KZT", 2, None),
    c("LAK", 2, None),
    c("LBP", 2, None),
    c("LKR", 2, None),
    c("LRD", 2, None),
    c("LSL", 2, None),
    c("LYD", 3, None),
    c("MAD", 2, None),
    c("MDL", 2, None),
    c("MGA", 2, None),
    c("MKD", 2, None),
    c("MMK", 2, None),
    c("MNT", 2, None),
    c("MOP", 2, None),
    c("MRU", 2, None),
    c("MUR", 2, None),
    c("MVR", 2, None),
    c("MWK", 2, None),
    c("MXN", 2, Some("MX$")),
    c("MXV", 2, None),
    c("MYR", 2, None),
    c("MZN", 2, None),
    c("NAD", 2, None),
    c("NGN", 2, None),
    c("NIO", 2, None),
    c("NOK", 2, None),
    c("NPR", 2, None),
    c("NZD", 2, Some("NZ$")),
    c("OMR", 3, None),
    c("PAB", 2, None),
    c("PEN", 2, None),
    c("PGK", 2, None),
    c("PHP", 2, Some("₱")),
    c("PKR", 2, None),
    c("PLN", 2, None),
    c("PYG", 0, None),
    c("QAR", 2, None),
    c("RON", 2, None),
    c("RSD", 2, None),
    c("RUB", 2, None),
    c("RWF", 0, None),
    c("SAR", 2, None),
    c("SBD", 2, None),
    c("SCR", 2, None),
    c("SDG", 2, None),
    c("SEK", 2, None),
    c("SGD", 2, None),
    c("SHP", 2, None),
    c("SLE", 2, None),
    c("SLL", 2, None),
    c("SOS", 2, None),
    c("SRD", 2, None),
    c("SSP", 2, None),
    c("STN", 2, None),
    c("SVC", 2, None),
    c("SYP", 2, None),
    c("SZL", 2, None),
    c("THB", 2, None),
    c("TJS", 2, None),
    c("TMT", 2, None),
    c("TND", 3, None),
    c("TOP", 2, None),
    c("TRY", 2, None),
    c("TTD", 2, None),
    c("TWD", 2, Some("NT$")),
    c("TZS", 2, None),
    c("UAH", 2, None),
    c("UGX", 0, None),
    c("USD", 2, Some("$")),
    c("USN", 2, None),
    c("UYI", 0, None),
    c("UYU", 2, None),
    c("UYW", 4, None),
    c("UZS", 2, None),
    c("VED", 2, None),
    c("VES", 2, None),
    c("VND", 0, Some("₫")),
    c("VUV", 0, None),
    c("WST", 2, None),
    c("XAF", 0, None),
    c("XCD", 2, None),
    c("XCG", 2, None),
    c("XOF", 0, None),
    c("XPF", 0, None),
    c("YER", 2, None),
    c("ZAR", 2, None),
    c("ZMW", 2, None),
    c("ZWG", 2, None),
];

/// Looks up a currency by its ISO 4217 code (case-insensitive).
pub fn lookup(code: &str) -> Option<&'static CurrencyInfo> {
    let bytes = code.as_bytes();
    if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let upper = code.to_ascii_uppercase();
    CURRENCIES
        .binary_search_by(|info| info.code.cmp(upper.as_str()))
        .ok()
        .and_then(|index| CURRENCIES.get(index))
}

/// `true` if `code` is an active ISO 4217 currency this module can format.
pub fn is_known_currency(code: &str) -> bool {
    lookup(code).is_some()
}

/// The ISO 4217 minor-unit exponent (decimal places) of `code`.
pub fn minor_unit_exponent(code: &str) -> Option<u8> {
    lookup(code).map(|info| info.exponent)
}

/// Formats `amount_minor` (e.g. cents) of currency `code` in the module's
/// style: `$12.34`, `€1,000.00`, `¥1,234`, `KWD 1.234`, `-$5.00`.
pub fn format_minor(amount_minor: i64, code: &str) -> Result<String, UnknownCurrency> {
    lookup(code)
        .map(|info| info.format(i128::from(amount_minor)))
        .ok_or_else(|| UnknownCurrency(code.to_owned()))
}

/// Formats `amount_minor` with the ISO code instead of a symbol for every
/// currency: `USD 12.34`, `JPY 1,234`, `-EUR 5.00`.
pub fn format_minor_code(amount_minor: i64, code: &str) -> Result<String, UnknownCurrency> {
    lookup(code)
        .map(|info| info.format_code(i128::from(amount_minor)))
        .ok_or_else(|| UnknownCurrency(code.to_owned()))
}

impl CurrencyInfo {
    /// The symbol if the currency has one, otherwise the code followed by a
    /// space: the prefix [`CurrencyInfo::format`] puts before the number.
    pub fn prefix(&self) -> String {
        match self.symbol {
            Some(symbol) => symbol.to_owned(),
            None => format!("{} ", self.code),
        }
    }

    /// Formats an amount in minor units with the symbol style. Takes `i128`
    /// so that line totals (quantity × unit price) never overflow.
    pub fn format(&self, amount_minor: i128) -> String {
        self.format_with_prefix(amount_minor, &self.prefix())
    }

    /// Formats an amount in minor units with the code style (`USD 12.34`).
    pub fn format_code(&self, amount_minor: i128) -> String {
        self.format_with_prefix(amount_minor, &format!("{} ", self.code))
    }

    /// Formats the bare number without any currency marker: `1,234.50`.
    pub fn format_number(&self, amount_minor: i128) -> String {
        let sign = if amount_minor < 0 { "-" } else { "" };
        format!(
            "{sign}{}",
            self.unsigned_number(amount_minor.unsigned_abs())
        )
    }

    fn format_with_prefix(&self, amount_minor: i128, prefix: &str) -> String {
        let sign = if amount_minor < 0 { "-" } else { "" };
        format!(
            "{sign}{prefix}{}",
            self.unsigned_number(amount_minor.unsigned_abs())
        )
    }

    fn unsigned_number(&self, magnitude: u128) -> String {
        let divisor = 10u128.pow(u32::from(self.exponent));
        let major = magnitude / divisor;
        let minor = magnitude % divisor;
        let grouped = group_thousands(major);
        if self.exponent == 0 {
            grouped
        } else {
            format!(
                "{grouped}.{minor:0width$}",
                width = usize::from(self.exponent)
            )
        }
    }
}

fn group_thousands(value: u128) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    let len = digits.len();
    for (index, ch) in digits.chars().enumerate() {
        if index > 0 && (len - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(amount: i64, code: &str) -> String {
        format_minor(amount, code).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn usd() {
        assert_eq!(fmt(1234, "USD"), "$12.34");
        assert_eq!(fmt(5, "USD"), "$0.05");
        assert_eq!(fmt(0, "USD"), "$0.00");
        assert_eq!(fmt(100_000, "USD"), "$1,000.00");
        assert_eq!(fmt(1234, "usd"), "$12.34");
    }

    #[test]
    fn eur_and_other_symbols() {
        assert_eq!(fmt(1234, "EUR"), "€12.34");
        assert_eq!(fmt(123_456_789, "EUR"), "€1,234,567.89");
        assert_eq!(fmt(999, "GBP"), "£9.99");
        assert_eq!(fmt(1999, "CAD"), "CA$19.99");
        assert_eq!(fmt(1999, "AUD"), "A$19.99");
        assert_eq!(fmt(1250, "CHF"), "CHF 12.50");
    }

    #[test]
    fn zero_decimal_currencies() {
        assert_eq!(fmt(1234, "JPY"), "¥1,234");
        assert_eq!(fmt(5, "JPY"), "¥5");
        assert_eq!(fmt(50_000, "KRW"), "₩50,000");
        assert_eq!(fmt(1500, "CLP"), "CLP 1,500");
        assert_eq!(minor_unit_exponent("JPY"), Some(0));
        assert_eq!(minor_unit_exponent("KRW"), Some(0));
    }

    #[test]
    fn three_decimal_currencies() {
        assert_eq!(fmt(1234, "KWD"), "KWD 1.234");
        assert_eq!(fmt(5, "KWD"), "KWD 0.005");
        assert_eq!(fmt(1_000_500, "BHD"), "BHD 1,000.500");
        for code in ["KWD", "BHD", "JOD", "OMR", "TND", "IQD", "LYD"] {
            assert_eq!(minor_unit_exponent(code), Some(3), "{code}");
        }
        assert_eq!(fmt(12_345, "CLF"), "CLF 1.2345");
    }

    #[test]
    fn negative_amounts() {
        assert_eq!(fmt(-500, "USD"), "-$5.00");
        assert_eq!(fmt(-1, "EUR"), "-€0.01");
        assert_eq!(fmt(-1500, "JPY"), "-¥1,500");
        assert_eq!(fmt(-500, "KWD"), "-KWD 0.500");
        assert_eq!(format_minor_code(-500, "EUR").as_deref(), Ok("-EUR 5.00"));
    }

    #[test]
    fn large_values_do_not_overflow() {
        assert_eq!(fmt(i64::MAX, "USD"), "$92,233,720,368,547,758.07");
        assert_eq!(fmt(i64::MIN, "USD"), "-$92,233,720,368,547,758.08");
        assert_eq!(fmt(i64::MIN, "JPY"), "-¥9,223,372,036,854,775,808");
        assert_eq!(fmt(i64::MAX, "KWD"), "KWD 9,223,372,036,854,775.807");
        let usd = lookup("USD").unwrap_or_else(|| panic!("USD missing"));
        let line_total = i128::from(u32::MAX) * i128::from(i64::MAX);
        assert!(usd.format(line_total).starts_with("$396,140,812,"));
    }

    #[test]
    fn code_style() {
        assert_eq!(format_minor_code(1234, "USD").as_deref(), Ok("USD 12.34"));
        assert_eq!(format_minor_code(1234, "JPY").as_deref(), Ok("JPY 1,234"));
    }

    #[test]
    fn unknown_currencies() {
        assert!(is_known_currency("USD"));
        assert!(is_known_currency("eur"));
        for bad in ["", "US", "USDX", "XXX", "XTS", "ABC", "€€€", "U$D", "XAU"] {
            assert!(!is_known_currency(bad), "{bad:?}");
        }
        assert_eq!(
            format_minor(1, "ABC"),
            Err(UnknownCurrency("ABC".to_owned()))
        );
    }

    #[test]
    fn table_is_sorted_and_unique() {
        for pair in CURRENCIES.windows(2) {
            assert!(pair[0].code < pair[1].code, "{:?}", pair);
        }
        assert!(CURRENCIES.iter().all(|c| c.code.len() == 3));
    }
}
