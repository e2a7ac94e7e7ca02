//! Tests of `pdf.rs`: the PDF receipt as a reader would see it.

use super::super::model::LineItem;
use super::*;

/// The strings shown with `Tj` in the PDF's (uncompressed) content
/// streams, decoded from WinAnsi: a minimal text extraction.
pub(in super::super) fn shown_strings(pdf: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < pdf.len() {
        let (bytes, end) = match pdf[i] {
            b'(' => literal_string(pdf, i),
            b'<' if pdf.get(i + 1) != Some(&b'<') => hex_string(pdf, i),
            b'<' => (None, i + 2),
            _ => (None, i + 1),
        };
        if let Some(bytes) = bytes {
            let rest = &pdf[end.min(pdf.len())..];
            let rest = rest.strip_prefix(b" ").unwrap_or(rest);
            if rest.starts_with(b"Tj") {
                out.push(bytes.iter().map(|&b| from_winansi(b)).collect());
            }
        }
        i = end.max(i + 1);
    }
    out
}

fn literal_string(pdf: &[u8], start: usize) -> (Option<Vec<u8>>, usize) {
    let mut bytes = Vec::new();
    let mut depth = 0usize;
    let mut i = start + 1;
    while let Some(&b) = pdf.get(i) {
        match b {
            b'\\' => {
                let next = pdf.get(i + 1).copied().unwrap_or(b'\\');
                if next.is_ascii_digit() {
                    let digits: Vec<u8> = pdf[i + 1..]
                        .iter()
                        .take(3)
                        .take_while(|d| (b'0'..=b'7').contains(d))
                        .copied()
                        .collect();
                    let value = digits
                        .iter()
                        .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                    bytes.push(u8::try_from(value & 0xff).unwrap_or(b'?'));
                    i += 1 + digits.len();
                    continue;
                }
                bytes.push(match next {
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'b' => 8,
                    b'f' => 12,
                    other => other,
                });
                i += 2;
                continue;
            }
            b'(' => depth += 1,
            b')' if depth == 0 => return (Some(bytes), i + 1),
            b')' => depth -= 1,
            _ => {}
        }
        bytes.push(b);
        i += 1;
    }
    (None, i)
}

fn hex_string(pdf: &[u8], start: usize) -> (Option<Vec<u8>>, usize) {
    let Some(len) = pdf[start + 1..].iter().position(|&b| b == b'>') else {
        return (None, pdf.len());
    };
    let hex: Vec<u8> = pdf[start + 1..start + 1 + len]
        .iter()
        .copied()
        .filter(u8::is_ascii_hexdigit)
        .collect();
    let value = |d: u8| {
        char::from(d)
            .to_digit(16)
            .and_then(|v| u8::try_from(v).ok())
    };
    let bytes = hex
        .chunks(2)
        .map(|pair| {
            let hi = value(pair[0]).unwrap_or(0);
            let lo = pair.get(1).and_then(|&d| value(d)).unwrap_or(0);
            hi * 16 + lo
        })
        .collect();
    (Some(bytes), start + 2 + len)
}

fn from_winansi(byte: u8) -> char {
    (0x20u32..=0x2122)
        .filter_map(char::from_u32)
        .find(|&c| to_winansi(c) == Some(byte))
        .unwrap_or('?')
}

fn ok<T>(result: Result<T, RenderError>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

fn page_count(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page\n";
    let alt = b"/Type /Page ";
    pdf.windows(needle.len())
        .filter(|w| *w == needle || *w == alt)
        .count()
}

#[test]
fn pdf_has_magic_and_content() {
    let pdf = ok(render_pdf(&Receipt::sample()));
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.ends_with(b"%%EOF") || pdf.ends_with(b"%%EOF\n"));
    let text = shown_strings(&pdf).join("\n");
    for expected in [
        "Order R-1001",
        "Northwind Goods",
        "Organic cotton T-shirt (M, navy)",
        "Canvas tote bag",
        "$50.00",
        "$12.99",
        "-$5.00",
        "$67.98",
        "Total (USD)",
        "Ada Lovelace",
        "12 St James's Square",
        "Page 1 of 1",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // The extraction really reads the document: other text is absent.
    assert!(!text.contains("R-1002"));
    let mut other = Receipt::sample();
    other.order_number = "R-1002".to_owned();
    let other = shown_strings(&ok(render_pdf(&other))).join("\n");
    assert!(other.contains("Order R-1002"));
    assert!(!other.contains("R-1001"));
    assert_eq!(page_count(&pdf), 1);
}

#[test]
fn extraction_decodes_escapes_and_hex() {
    let mut receipt = Receipt::sample();
    receipt.items[0].name = "Café (grande) \\ crème €5".to_owned();
    let text = shown_strings(&ok(render_pdf(&receipt))).join("\n");
    assert!(text.contains("Café (grande) \\ crème €5"), "{text}");
}

#[test]
fn many_items_span_pages() {
    let mut receipt = Receipt::sample();
    receipt.items = (1..=150)
        .map(|n| LineItem {
            name: format!("Item number {n}"),
            quantity: 1,
            unit_price_minor: 100,
        })
        .collect();
    receipt.subtotal_minor = 15_000;
    let pdf = ok(render_pdf(&receipt));
    let pages = page_count(&pdf);
    assert!(pages >= 3, "{pages} pages");
    let text = shown_strings(&pdf);
    for n in [1, 75, 150] {
        let name = format!("Item number {n}");
        assert!(text.contains(&name), "missing {name}");
    }
    assert!(text.contains(&format!("Receipt R-1001  |  Page {pages} of {pages}")));
    assert!(text.iter().any(|s| s.contains("R-1001 (continued)")));
    let count = format!("/Count {pages}");
    assert!(pdf.windows(count.len()).any(|w| w == count.as_bytes()));
}

#[test]
fn non_latin_text_is_replaced_not_panicking() {
    let mut receipt = Receipt::sample();
    receipt.customer_name = "山田 太郎".to_owned();
    receipt.items[0].name = "Ünïcödé 😀 тест ok".to_owned();
    receipt.branding.shop_name = "Łódź Store".to_owned();
    let pdf = ok(render_pdf(&receipt));
    let text = shown_strings(&pdf).join("\n");
    assert!(text.contains("?? ??"), "{text}");
    assert!(text.contains("Ünïcödé ? ???? ok"), "{text}");
    assert!(text.contains("?ód? Store"), "{text}");
    // The title in the info dictionary keeps the real name (UTF-16).
    assert!(pdf.starts_with(b"%PDF"));
}

#[test]
fn symbols_the_font_lacks_fall_back_to_codes() {
    let mut receipt = Receipt::sample();
    receipt.currency = "INR".to_owned();
    // CLDR separates the code from the number with a no-break space.
    let text = shown_strings(&ok(render_pdf(&receipt)))
        .join("\n")
        .replace('\u{a0}', " ");
    assert!(text.contains("INR 67.98"), "{text}");
    receipt.currency = "EUR".to_owned();
    let text = shown_strings(&ok(render_pdf(&receipt))).join("\n");
    assert!(text.contains("€67.98"), "{text}");
    receipt.currency = "JPY".to_owned();
    let text = shown_strings(&ok(render_pdf(&receipt))).join("\n");
    assert!(text.contains("¥6,798"), "{text}");
}

#[test]
fn hostile_input_does_not_panic() {
    let mut receipt = Receipt::sample();
    receipt.items.push(LineItem {
        name: "x".repeat(20_000),
        quantity: u32::MAX,
        unit_price_minor: i64::MIN,
    });
    receipt.items.push(LineItem {
        name: "\u{0}\n\r\t() \\ <> ".repeat(50),
        quantity: 0,
        unit_price_minor: i64::MAX,
    });
    receipt.items.push(LineItem {
        name: String::new(),
        quantity: 1,
        unit_price_minor: 0,
    });
    receipt.order_number = "(".repeat(500);
    receipt.branding.shop_name = "W".repeat(1_000);
    receipt.branding.footer_text = "line\n".repeat(300);
    receipt.subtotal_minor = i64::MIN;
    receipt.total_minor = i64::MAX;
    receipt.discount_minor = i64::MIN;
    receipt.placed_at = i64::MAX;
    receipt.billing_address = Some(vec!["\u{202e}".repeat(10); 100]);
    let pdf = ok(render_pdf(&receipt));
    assert!(pdf.starts_with(b"%PDF"));
    assert!(page_count(&pdf) > 1);

    receipt.items.clear();
    receipt.billing_address = None;
    receipt.branding = Receipt::sample().branding;
    receipt.branding.footer_text = String::new();
    assert!(ok(render_pdf(&receipt)).starts_with(b"%PDF"));
}

#[test]
fn unknown_currency_is_an_error() {
    let mut receipt = Receipt::sample();
    receipt.currency = "???".to_owned();
    assert!(matches!(
        render_pdf(&receipt),
        Err(RenderError::UnknownCurrency(_))
    ));
}

#[test]
fn widths() {
    assert!((Font::Regular.width("0123456789", 10.0) - 55.6).abs() < 0.01);
    assert!(Font::Bold.width("W", 10.0) > 9.0);
    assert!((Font::Regular.width("€", 10.0) - 5.56).abs() < 0.01);
    assert_eq!(truncate_to_width("abc", Font::Regular, 10.0, 100.0), "abc");
    let cut = truncate_to_width(&"m".repeat(100), Font::Regular, 10.0, 50.0);
    assert!(Font::Regular.width(&cut, 10.0) <= 50.0 + 0.01);
    assert!(cut.ends_with('…'));
}
