//! Money and dates for one locale, from CLDR data through ICU4X (compiled
//! data, nothing read at run time).
//!
//! * Money: `icu_experimental`'s currency formatter (the locale's currency
//!   pattern, symbol, separators and the currency's CLDR fraction digits):
//!   `€29.75` in `en`, `29,75 €` in `de` and `fr` (the space is a no-break
//!   space, U+00A0, as CLDR writes it), `Rp150.000` in `id` (CLDR gives the
//!   rupiah no fraction digits). A currency whose CLDR *cash* digits are 0
//!   while its digits are not (the Swedish krona) is shown without a
//!   fraction when every amount of the receipt is whole, as people write
//!   those prices: `150 kr` rather than `150,00 kr`. In Indonesian the sign `Rp` stands
//!   against the number as Indonesian spelling (PUEBI) writes it, without
//!   the no-break space CLDR's currency spacing would put there.
//! * Dates: `icu_datetime` in the Gregorian calendar, in the shop's IANA time
//!   zone (converted by jiff with its bundled time zone database), with the
//!   zone's abbreviation from that database: `1 Mei 2024 21.03 WIB`.
//!
//! Formatters are built once per (locale, currency) and kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use fixed_decimal::Decimal;
use icu_calendar::Gregorian;
use icu_datetime::FixedCalendarDateTimeFormatter;
use icu_datetime::fieldsets::{YMD, YMDT};
use icu_datetime::input::DateTime as IcuDateTime;
use icu_datetime::options::TimePrecision;
use icu_decimal::DecimalFormatter;
use icu_decimal::options::DecimalFormatterOptions;
use icu_experimental::dimension::currency::CurrencyType;
use icu_experimental::dimension::currency::formatter::CurrencyFormatter;
use icu_experimental::dimension::provider::currency::fractions::CurrencyFractionsV1;
use icu_locale_core::Locale;
use icu_provider::prelude::*;

use crate::money;

/// A currency could not be formatted for a locale.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot format {currency:?} for {locale}: {why}")]
pub struct FormatError {
    pub currency: String,
    pub locale: String,
    pub why: String,
}

/// Formats amounts of one currency (stored in its ISO 4217 minor units) for one locale.
#[derive(Debug)]
pub struct MoneyFormat {
    symbol: CurrencyFormatter<DecimalFormatter>,
    code: CurrencyFormatter<DecimalFormatter>,
    number: DecimalFormatter,
    /// ISO 4217 minor-unit exponent of the stored amounts.
    exponent: i16,
    /// CLDR's fraction digits for the currency (what the formatter shows).
    digits: i16,
    /// CLDR's cash digits are 0: whole amounts may be shown without a fraction.
    whole_cash: bool,
    /// Indonesian writes the rupiah sign against the number (`Rp150.000`,
    /// PUEBI); CLDR's currency spacing puts a no-break space there.
    rupiah_tight: bool,
}

/// Formatters by (locale, currency): building one loads CLDR data.
type FormatCache = HashMap<(String, String), Arc<MoneyFormat>>;

impl MoneyFormat {
    /// The shared formatter for `currency` (ISO 4217, any case) in `locale`.
    pub fn get(locale: &Locale, currency: &str) -> Result<Arc<MoneyFormat>, FormatError> {
        static CACHE: OnceLock<Mutex<FormatCache>> = OnceLock::new();
        let key = (locale.to_string(), currency.to_ascii_uppercase());
        let cache = CACHE.get_or_init(Default::default);
        if let Some(found) = cache.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(found);
        }
        let made = Arc::new(MoneyFormat::new(locale, currency)?);
        if let Ok(mut map) = cache.lock() {
            map.insert(key, made.clone());
        }
        Ok(made)
    }

    fn new(locale: &Locale, currency: &str) -> Result<Self, FormatError> {
        let fail = |why: String| FormatError {
            currency: currency.to_owned(),
            locale: locale.to_string(),
            why,
        };
        let info = money::lookup(currency).ok_or_else(|| fail("unknown currency".into()))?;
        let kind = CurrencyType::try_from_str(info.code).map_err(|e| fail(format!("{e:?}")))?;
        let prefs = locale.into();
        let symbol = CurrencyFormatter::try_new_symbol(prefs, kind, Default::default())
            .map_err(|e| fail(e.to_string()))?;
        let code = CurrencyFormatter::try_new_code(prefs, kind, Default::default())
            .map_err(|e| fail(e.to_string()))?;
        let number = DecimalFormatter::try_new(locale.into(), DecimalFormatterOptions::default())
            .map_err(|e| fail(e.to_string()))?;
        let fractions: DataResponse<CurrencyFractionsV1> = icu_experimental::provider::Baked
            .load(Default::default())
            .map_err(|e| fail(e.to_string()))?;
        let fraction = fractions.payload.get().resolve(kind);
        Ok(MoneyFormat {
            symbol,
            code,
            number,
            exponent: i16::from(info.exponent),
            digits: i16::from(fraction.digits),
            whole_cash: fraction.cash_digits == Some(0),
            rupiah_tight: locale.id.language.as_str() == "id" && info.code == "IDR",
        })
    }

    /// Whether amounts may be shown without a fraction: the currency's cash
    /// digits are 0 and every amount given is whole.
    pub fn whole_amounts(&self, amounts_minor: impl IntoIterator<Item = i128>) -> bool {
        let unit = 10i128.pow(u32::try_from(self.exponent).unwrap_or(0));
        self.whole_cash && amounts_minor.into_iter().all(|a| a % unit == 0)
    }

    /// `amount_minor` with the currency's symbol: `€29.75`, `29,75 €`,
    /// `Rp 150.000` (with `whole`).
    pub fn format(&self, amount_minor: i128, whole: bool) -> String {
        self.render(&self.symbol, amount_minor, whole)
    }

    /// `amount_minor` with the ISO code instead of the symbol (`IDR 150.000`),
    /// for the PDF when its font cannot draw the symbol.
    pub fn format_code(&self, amount_minor: i128, whole: bool) -> String {
        self.render(&self.code, amount_minor, whole)
    }

    fn render(
        &self,
        formatter: &CurrencyFormatter<DecimalFormatter>,
        amount_minor: i128,
        whole: bool,
    ) -> String {
        let mut value = Decimal::from(amount_minor);
        value.multiply_pow10(-self.exponent);
        let mut full = formatter.format_fixed_decimal(&value).to_string();
        if self.rupiah_tight {
            full = full.replacen("Rp\u{a0}", "Rp", 1);
        }
        if !whole || self.digits == 0 {
            return full;
        }
        // The currency pattern holds the number as the decimal formatter
        // writes it at the currency's digits; put it there without fraction.
        let mut magnitude = Decimal::from(amount_minor.checked_abs().unwrap_or(i128::MAX));
        magnitude.multiply_pow10(-self.exponent);
        let mut with_fraction = magnitude.clone();
        with_fraction.round(-self.digits);
        with_fraction.pad_end(-self.digits);
        let mut without = magnitude;
        without.round(0);
        let with_fraction = self.number.format_to_string(&with_fraction);
        let without = self.number.format_to_string(&without);
        full.replacen(&with_fraction, &without, 1)
    }
}

/// Formats instants as dates in one locale.
#[derive(Debug)]
pub struct DateFormat {
    date: FixedCalendarDateTimeFormatter<Gregorian, YMD>,
    date_time: FixedCalendarDateTimeFormatter<Gregorian, YMDT>,
}

impl DateFormat {
    /// The shared formatter for `locale`.
    pub fn get(locale: &Locale) -> Result<Arc<DateFormat>, String> {
        static CACHE: OnceLock<Mutex<HashMap<String, Arc<DateFormat>>>> = OnceLock::new();
        let key = locale.to_string();
        let cache = CACHE.get_or_init(Default::default);
        if let Some(found) = cache.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(found);
        }
        let date = FixedCalendarDateTimeFormatter::try_new(locale.into(), YMD::long())
            .map_err(|e| e.to_string())?;
        let date_time = FixedCalendarDateTimeFormatter::try_new(
            locale.into(),
            YMDT::long().with_time_precision(TimePrecision::Minute),
        )
        .map_err(|e| e.to_string())?;
        let made = Arc::new(DateFormat { date, date_time });
        if let Ok(mut map) = cache.lock() {
            map.insert(key, made.clone());
        }
        Ok(made)
    }

    /// The day of `unix_ms` in `zone`: `May 1, 2024`, `1 Mei 2024`.
    pub fn date(&self, unix_ms: i64, zone: &jiff::tz::TimeZone) -> String {
        match civil(unix_ms, zone) {
            Some((dt, _)) => self.date.format(&IcuDateTime::from(dt)).to_string(),
            None => String::new(),
        }
    }

    /// Day and minute of `unix_ms` in `zone`, with the zone's abbreviation:
    /// `May 1, 2024 at 9:03 PM WIB`, `1 Mei 2024 pukul 21.03 WIB`.
    pub fn date_time(&self, unix_ms: i64, zone: &jiff::tz::TimeZone) -> String {
        match civil(unix_ms, zone) {
            Some((dt, abbreviation)) => format!(
                "{} {abbreviation}",
                self.date_time.format(&IcuDateTime::from(dt))
            ),
            None => String::new(),
        }
    }
}

/// The civil time of `unix_ms` in `zone` and the zone's abbreviation then;
/// `None` outside jiff's range (years -9999 to 9999).
fn civil(unix_ms: i64, zone: &jiff::tz::TimeZone) -> Option<(jiff::civil::DateTime, String)> {
    let ts = jiff::Timestamp::from_millisecond(unix_ms).ok()?;
    let zoned = ts.to_zoned(zone.clone());
    let abbreviation = zoned.strftime("%Z").to_string();
    Some((zoned.datetime(), abbreviation))
}
