//! The customer's language: one catalogue for everything a customer sees
//! (the receipt e-mail, the masked re-send, the link page, the PDF, SMS,
//! WhatsApp and the spoken call), money and dates from CLDR.
//!
//! * Which language: [`resolve`]: the order's `customer.locale`, else the
//!   shop's `shop.default_locale`, else (on the link page) the browser's
//!   `Accept-Language`, else English.
//! * Words: Project Fluent files, one per language, `engine/locales/<lang>.ftl`
//!   (English and Indonesian built in). A shop adds or overrides messages
//!   with its own `<lang>.ftl` files in `shop.locales_dir` ([`install`]).
//!   A message missing in a language is taken from English.
//! * Money and dates: [`format`] (ICU4X compiled CLDR data; the shop's
//!   `shop.time_zone`).
//!
//! ```text
//! let lang = engine::i18n::Lang::from_tag("id-ID").unwrap_or_default();
//! lang.t("link-subject", &[("order", "R-1001")]);   // "Struk untuk pesanan R-1001 sudah siap"
//! engine::i18n::text("id", "sms-link", &[("shop", "Toko"), ("order", "R-1"), ("url", url)]);
//! ```

pub mod catalogue;
pub mod format;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use icu_locale_core::Locale;

pub use self::catalogue::{Catalogue, CatalogueError, FALLBACK};
pub use self::format::{DateFormat, FormatError, MoneyFormat};

/// Longest language tag accepted (BCP 47 advises supporting 35 characters).
pub const MAX_TAG_LEN: usize = 35;

static INSTALLED: OnceLock<Catalogue> = OnceLock::new();

/// Loads the shop's catalogue files (`shop.locales_dir`) on top of the
/// built-in ones, for the whole process. Called once at start-up; a broken
/// file stops start-up with its name. Without it the built-in catalogue is used.
pub fn install(locales_dir: Option<&str>) -> Result<(), CatalogueError> {
    let catalogue = match locales_dir {
        Some(dir) => Catalogue::with_dir(Path::new(dir))?,
        None => Catalogue::built_in()?,
    };
    // A second install (tests starting several servers) keeps the first.
    let _ = INSTALLED.set(catalogue);
    Ok(())
}

/// The process's catalogue: the installed one, else the built-in files.
pub fn catalogue() -> &'static Catalogue {
    INSTALLED.get_or_init(|| Catalogue::built_in().unwrap_or_default())
}

/// The message `key` for the language of `locale` (any BCP 47 tag; an
/// unknown or malformed one is English), with string arguments. The one
/// call every channel uses:
/// `text("id", "sms-link", &[("shop", "Toko Bali"), ("order", "R-7"), ("url", url)])`.
pub fn text(locale: &str, key: &str, args: &[(&str, &str)]) -> String {
    Lang::from_tag(locale).unwrap_or_default().t(key, args)
}

/// A BCP 47 tag in canonical form (`id-id` → `id-ID`), or `None` when it is
/// not one.
pub fn canonical_tag(tag: &str) -> Option<String> {
    let tag = tag.trim();
    if tag.is_empty() || tag.len() > MAX_TAG_LEN || tag.contains('_') {
        return None;
    }
    Locale::try_from_str(tag).ok().map(|l| l.to_string())
}

/// The language subtag of a tag (`pt-BR` → `pt`), lower case.
pub fn language_of(tag: &str) -> Option<String> {
    let tag = canonical_tag(tag)?;
    let locale = Locale::try_from_str(&tag).ok()?;
    Some(locale.id.language.as_str().to_owned())
}

/// A resolved language: the catalogue its words come from and the CLDR
/// locale its numbers and dates are formatted in (the customer's tag with its
/// region when the catalogue speaks its language, else plain English).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lang {
    language: String,
    locale: Locale,
}

impl Default for Lang {
    fn default() -> Self {
        Lang {
            language: FALLBACK.to_owned(),
            locale: icu_locale_core::locale!("en"),
        }
    }
}

impl Lang {
    /// The language for a tag the catalogue speaks; `None` for a malformed
    /// tag or a language without a catalogue.
    pub fn supported(tag: &str) -> Option<Lang> {
        let canonical = canonical_tag(tag)?;
        let locale = Locale::try_from_str(&canonical).ok()?;
        let language = locale.id.language.as_str().to_owned();
        catalogue()
            .has_language(&language)
            .then_some(Lang { language, locale })
    }

    /// The language for any well-formed tag: a language without a catalogue
    /// is English. `None` only for a malformed tag.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        // Remembered per thread: a receipt asks for its language once per
        // message of its templates, and parsing the tag three times each was
        // about 5 % of a send worker's CPU (`make bench`, perf). Bounded: tags
        // come from orders.
        const REMEMBERED: usize = 64;
        thread_local! {
            static SEEN: std::cell::RefCell<std::collections::HashMap<String, Option<Lang>>> =
                std::cell::RefCell::new(std::collections::HashMap::new());
        }
        if let Some(lang) = SEEN.with(|seen| seen.borrow().get(tag).cloned()) {
            return lang;
        }
        let lang = canonical_tag(tag).map(|_| Lang::supported(tag).unwrap_or_default());
        SEEN.with(|seen| {
            let mut seen = seen.borrow_mut();
            if seen.len() < REMEMBERED {
                seen.insert(tag.to_owned(), lang.clone());
            }
        });
        lang
    }

    /// The catalogue's language: `en`, `id`.
    pub fn language(&self) -> &str {
        &self.language
    }

    /// The tag for `<html lang>` and the CLDR formatters: `en-US`, `id`.
    pub fn tag(&self) -> String {
        self.locale.to_string()
    }

    pub fn locale(&self) -> &Locale {
        &self.locale
    }

    /// A message of this language (English where it has none).
    pub fn t(&self, key: &str, args: &[(&str, &str)]) -> String {
        catalogue().text(&self.language, key, args)
    }

    /// The money formatter for `currency` in this language.
    pub fn money(&self, currency: &str) -> Result<Arc<MoneyFormat>, FormatError> {
        MoneyFormat::get(&self.locale, currency)
    }

    /// The language of what a customer is sent: the order's
    /// `customer.locale` (`order.customer_locale`), else
    /// `shop_default` (`shop.default_locale`), else English.
    pub fn for_customer(customer_locale: Option<&str>, shop_default: Option<&str>) -> Lang {
        resolve(customer_locale, shop_default, None)
    }

    /// A moment as day and minute in the IANA zone `time_zone` (UTC when
    /// unknown), in this language: `1 Mei 2024 pukul 21.03 WIB`.
    pub fn date_time(&self, unix_ms: i64, time_zone: &str) -> String {
        let zone = time_zone_named(time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        match self.dates() {
            Some(d) => d.date_time(unix_ms, &zone),
            None => crate::clock::format_utc(unix_ms),
        }
    }

    /// The date formatter of this language (English if CLDR lacks it).
    pub fn dates(&self) -> Option<Arc<DateFormat>> {
        DateFormat::get(&self.locale)
            .or_else(|_| DateFormat::get(&Lang::default().locale))
            .ok()
    }
}

/// The customer's language, first of: the order's `customer.locale`, the
/// shop's `shop.default_locale`, the browser's `Accept-Language` (the best
/// language it accepts that the catalogue speaks), English.
pub fn resolve(order: Option<&str>, shop_default: Option<&str>, accept: Option<&str>) -> Lang {
    order
        .and_then(Lang::from_tag)
        .or_else(|| shop_default.and_then(Lang::from_tag))
        .or_else(|| accept.and_then(negotiate))
        .unwrap_or_default()
}

/// The best language of an `Accept-Language` header (RFC 9110 §12.5.4)
/// that the catalogue speaks; `None` when it names none of them.
pub fn negotiate(accept_language: &str) -> Option<Lang> {
    let mut ranges: Vec<(u16, usize, &str)> = accept_language
        .split(',')
        .enumerate()
        .filter_map(|(index, item)| {
            let mut parts = item.split(';');
            let range = parts.next()?.trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), parse_q)?;
            (q > 0 && !range.is_empty() && range != "*").then_some((q, index, range))
        })
        .take(32)
        .collect();
    // Highest weight first; equal weights keep the header's order.
    ranges.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges
        .into_iter()
        .find_map(|(_, _, range)| Lang::supported(range))
}

/// A `q` value in thousandths (`0.8` → 800); `None` when malformed.
fn parse_q(q: &str) -> Option<u16> {
    let value: f32 = q.trim().parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

/// Checks the shop's language settings at start-up: `shop.default_locale`
/// a BCP 47 tag, `shop.time_zone` an IANA zone name.
pub fn validate_shop(default_locale: Option<&str>, time_zone: &str) -> Result<(), String> {
    if let Some(tag) = default_locale
        && canonical_tag(tag).is_none()
    {
        return Err(
            "`shop.default_locale`: must be a BCP 47 language tag such as id or en-US".into(),
        );
    }
    if time_zone_named(time_zone).is_none() {
        return Err(format!(
            "`shop.time_zone`: {time_zone:?} is not an IANA time zone such as Asia/Jakarta"
        ));
    }
    Ok(())
}

/// The IANA time zone `name` (`Asia/Jakarta`, `UTC`).
pub fn time_zone_named(name: &str) -> Option<jiff::tz::TimeZone> {
    jiff::tz::TimeZone::get(name).ok()
}

#[cfg(test)]
mod tests;
