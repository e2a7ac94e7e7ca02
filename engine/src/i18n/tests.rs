use super::*;

fn money(tag: &str, minor: i128, currency: &str) -> String {
    let lang = Lang::from_tag(tag).unwrap_or_else(|| panic!("{tag}"));
    let locale: Locale = tag.parse().unwrap_or_else(|e| panic!("{e:?}"));
    let _ = lang;
    let f = MoneyFormat::get(&locale, currency).unwrap_or_else(|e| panic!("{e}"));
    let whole = f.whole_amounts([minor]);
    f.format(minor, whole)
}

/// CLDR writes a no-break space (U+00A0) or a narrow one (U+202F) between
/// number and symbol; the examples in docs use a plain space.
fn plain(s: &str) -> String {
    s.replace(['\u{a0}', '\u{202f}'], " ")
}

#[test]
fn money_follows_cldr_per_locale() {
    assert_eq!(money("en", 2975, "EUR"), "€29.75");
    assert_eq!(money("en-US", 1_234_567, "USD"), "$12,345.67");
    assert_eq!(plain(&money("de", 2975, "EUR")), "29,75 €");
    assert_eq!(plain(&money("fr", 2975, "EUR")), "29,75 €");
    assert_eq!(plain(&money("de", 123_456_789, "EUR")), "1.234.567,89 €");
    assert_eq!(money("en", -500, "USD"), "-$5.00");
    assert_eq!(money("ja", 1234, "JPY"), "￥1,234");
}

#[test]
fn rupiah_in_indonesian_has_no_cents() {
    assert_eq!(plain(&money("id", 15_000_000, "IDR")), "Rp150.000");
    assert_eq!(plain(&money("id-ID", 1_250_000_000, "IDR")), "Rp12.500.000");
    // CLDR gives the rupiah no fraction digits: sen round to whole rupiah.
    assert_eq!(plain(&money("id", 15_000_050, "IDR")), "Rp150.001");
    // Whole kronor drop the fraction (CLDR: digits 2, cash digits 0); an
    // amount with öre keeps it.
    assert_eq!(plain(&money("sv", 15_000_000, "SEK")), "150 000 kr");
    assert_eq!(plain(&money("sv", 15_000_050, "SEK")), "150 000,50 kr");
    // Euros keep their cents in Indonesian.
    assert_eq!(plain(&money("id", 2975, "EUR")), "€29,75");
}

#[test]
fn dates_in_the_shop_zone_and_language() {
    let zone = time_zone_named("Asia/Jakarta").unwrap_or_else(|| panic!("no Asia/Jakarta"));
    // 2024-05-01 14:03 UTC = 21:03 in Jakarta (UTC+7).
    let at = 1_714_572_180_000;
    let id = Lang::from_tag("id")
        .and_then(|l| l.dates())
        .unwrap_or_else(|| panic!("id"));
    assert_eq!(id.date(at, &zone), "1 Mei 2024");
    let shown = plain(&id.date_time(at, &zone));
    assert!(shown.contains("21.03") && shown.ends_with("WIB"), "{shown}");
    let en = Lang::default().dates().unwrap_or_else(|| panic!("en"));
    assert_eq!(en.date(at, &zone), "May 1, 2024");
    let utc = time_zone_named("UTC").unwrap_or_else(|| panic!("UTC"));
    let shown = plain(&en.date_time(at, &utc));
    assert!(shown.contains("2:03") && shown.ends_with("UTC"), "{shown}");
    // Late on the last day of April in Jakarta is still April in UTC: the zone counts.
    let late = 1_714_496_400_000; // 2024-04-30 17:00 UTC = 2024-05-01 00:00 WIB
    assert_eq!(id.date(late, &zone), "1 Mei 2024");
    assert_eq!(id.date(late, &utc), "30 April 2024");
    // Out of range does not panic.
    assert_eq!(id.date(i64::MAX, &zone), "");
}

#[test]
fn no_built_in_language_misses_a_key() {
    let catalogue = Catalogue::built_in().unwrap_or_else(|e| panic!("{e}"));
    let mut gaps = Vec::new();
    for (language, _) in catalogue::BUILT_IN {
        for key in catalogue.missing_keys(language) {
            gaps.push(format!("{language}: {key}"));
        }
    }
    assert!(
        gaps.is_empty(),
        "keys missing from a language file:\n{}",
        gaps.join("\n")
    );
    assert!(catalogue::built_in_keys("en").len() > 40);
}

#[test]
fn text_in_the_language_with_fallback_to_english() {
    let args = [("order", "R-7"), ("shop", "Toko Bali")];
    assert_eq!(
        text("id", "email-subject", &args),
        "Struk pesanan R-7 dari Toko Bali"
    );
    assert_eq!(
        text("id-ID", "email-subject", &args),
        "Struk pesanan R-7 dari Toko Bali"
    );
    assert_eq!(
        text("en-US", "email-subject", &args),
        "Your receipt for order R-7 from Toko Bali"
    );
    // A language without a catalogue, or a malformed tag: English.
    assert_eq!(text("sw", "receipt-tax", &[]), "Tax");
    assert_eq!(text("not a tag!", "receipt-tax", &[]), "Tax");
    // An unknown key shows itself rather than nothing.
    assert_eq!(text("id", "no-such-key", &[]), "no-such-key");
}

#[test]
fn a_shop_directory_overrides_and_adds() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.path().join("id.ftl"),
        "receipt-tax = PPN\nshop-extra = Terima kasih\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("de.ftl"), "receipt-tax = Steuer\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let c = Catalogue::with_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.text("id", "receipt-tax", &[]), "PPN");
    assert_eq!(c.text("id", "shop-extra", &[]), "Terima kasih");
    assert_eq!(c.text("id", "receipt-subtotal", &[]), "Subtotal");
    assert_eq!(c.text("id", "receipt-shipping", &[]), "Ongkos kirim");
    assert_eq!(c.text("de", "receipt-tax", &[]), "Steuer");
    assert_eq!(c.text("de", "receipt-shipping", &[]), "Shipping");
    assert!(
        c.missing_keys("de")
            .contains(&"receipt-shipping".to_owned())
    );
    // A broken file is refused with its name.
    std::fs::write(dir.path().join("fr.ftl"), "receipt-tax = { $\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let err = match Catalogue::with_dir(dir.path()) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a broken catalogue file was accepted"),
    };
    assert!(err.contains("fr.ftl"), "{err}");
    std::fs::remove_file(dir.path().join("fr.ftl")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("not a tag.ftl"), "a = b\n").unwrap_or_else(|e| panic!("{e}"));
    assert!(Catalogue::with_dir(dir.path()).is_err());
}

#[test]
fn tags_are_checked_and_made_canonical() {
    assert_eq!(canonical_tag("id-id").as_deref(), Some("id-ID"));
    assert_eq!(canonical_tag(" EN-us ").as_deref(), Some("en-US"));
    assert_eq!(canonical_tag("zh-Hant-TW").as_deref(), Some("zh-Hant-TW"));
    for bad in [
        "",
        "e",
        "en_US",
        "english please",
        "12",
        "en-",
        &"x".repeat(40),
    ] {
        assert_eq!(canonical_tag(bad), None, "{bad:?}");
    }
}

#[test]
fn the_order_then_the_shop_then_the_browser() {
    let lang = |o, s, a| resolve(o, s, a).language().to_owned();
    assert_eq!(lang(Some("id"), Some("en"), Some("en-US")), "id");
    assert_eq!(lang(None, Some("id"), Some("en-US")), "id");
    assert_eq!(lang(None, None, Some("id-ID,id;q=0.9,en;q=0.8")), "id");
    assert_eq!(lang(None, None, Some("en-US,en;q=0.9")), "en");
    assert_eq!(lang(None, None, Some("fr-FR, id;q=0.5")), "id");
    assert_eq!(lang(None, None, Some("en;q=0.1, id;q=0.9")), "id");
    assert_eq!(lang(None, None, Some("id;q=0, en")), "en");
    assert_eq!(lang(None, None, Some("fr, de")), "en");
    assert_eq!(lang(None, None, Some(";;;,q=,")), "en");
    assert_eq!(lang(None, None, None), "en");
    assert_eq!(resolve(None, None, Some("id-ID")).tag(), "id-ID");
}

#[test]
fn shop_settings_are_checked() {
    assert!(validate_shop(Some("id"), "Asia/Jakarta").is_ok());
    assert!(validate_shop(None, "UTC").is_ok());
    assert!(validate_shop(Some("in_ID"), "UTC").is_err());
    assert!(validate_shop(None, "Mars/Olympus").is_err());
}
