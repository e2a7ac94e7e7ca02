//! Template-based rendering of the HTML and plain-text receipts.

use std::path::Path;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment};

use super::RenderError;
use super::built_in;
use super::model::Receipt;
use super::view::{self, ReceiptView};

/// Name of the HTML email template (HTML auto-escaping is on).
pub const HTML_TEMPLATE: &str = "receipt.html.j2";
/// Name of the plain-text template (no escaping).
pub const TEXT_TEMPLATE: &str = "receipt.txt.j2";

/// The built-in HTML template.
pub const DEFAULT_HTML_TEMPLATE: &str = include_str!("../../templates/receipt.html.j2");
/// The built-in plain-text template.
pub const DEFAULT_TEXT_TEMPLATE: &str = include_str!("../../templates/receipt.txt.j2");

/// The secure-link message (sent through the masked pool when email failed).
pub const LINK_HTML_TEMPLATE: &str = "receipt_link.html.j2";
pub const LINK_TEXT_TEMPLATE: &str = "receipt_link.txt.j2";
pub const DEFAULT_LINK_HTML_TEMPLATE: &str = include_str!("../../templates/receipt_link.html.j2");
pub const DEFAULT_LINK_TEXT_TEMPLATE: &str = include_str!("../../templates/receipt_link.txt.j2");

/// What the secure-link message says.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LinkMessage {
    /// The customer's language (BCP 47), for the words and `<html lang>`.
    pub lang: String,
    pub shop_name: String,
    pub customer_name: String,
    pub order_number: String,
    pub url: String,
    /// When the link stops working, in words.
    pub expires: String,
    pub support_email: String,
    pub footer: String,
}

/// Largest template file read from a shop's template directory.
const MAX_TEMPLATE_BYTES: u64 = 1024 * 1024;
/// Widest column the `ljust`/`rjust`/`wrap` filters produce.
const MAX_FILTER_WIDTH: usize = 1_000;

/// Renders receipts. Holds the compiled templates, so build one and reuse it
/// (it is `Send + Sync`; share it behind an `Arc`).
#[derive(Debug, Clone)]
pub struct Renderer {
    env: Environment<'static>,
    /// Which receipt bodies are the built-in templates, written by
    /// [`super::built_in`] instead of interpreted.
    built_in: BuiltIn,
}

#[derive(Debug, Clone, Copy)]
struct BuiltIn {
    html: bool,
    text: bool,
}

impl Renderer {
    /// A renderer with the built-in templates.
    pub fn new() -> Result<Self, RenderError> {
        let mut env = base_environment()?;
        env.add_template(HTML_TEMPLATE, DEFAULT_HTML_TEMPLATE)?;
        env.add_template(TEXT_TEMPLATE, DEFAULT_TEXT_TEMPLATE)?;
        env.add_template(LINK_HTML_TEMPLATE, DEFAULT_LINK_HTML_TEMPLATE)?;
        env.add_template(LINK_TEXT_TEMPLATE, DEFAULT_LINK_TEXT_TEMPLATE)?;
        let built_in = BuiltIn {
            html: true,
            text: true,
        };
        Ok(Renderer { env, built_in })
    }

    /// A renderer using a shop's own templates from `dir`.
    ///
    /// Every `*.j2` file directly inside `dir` is loaded (so templates can
    /// `{% include %}` or `{% extends %}` one another); `receipt.html.j2` and
    /// `receipt.txt.j2` fall back to the built-in defaults when missing.
    /// Files ending in `.html.j2`/`.htm.j2`/`.html` are HTML-escaped.
    ///
    /// Errors if `dir` cannot be read, a template is larger than 1 MiB or not
    /// UTF-8, a template has a syntax error, or rendering the
    /// [`Receipt::sample`] with it fails (so a broken template is found when
    /// it is loaded, not when a customer's receipt is sent).
    pub fn with_template_dir(dir: impl AsRef<Path>) -> Result<Self, RenderError> {
        let dir = dir.as_ref();
        let io_err = |path: &Path, source: std::io::Error| RenderError::TemplateDir {
            path: path.to_path_buf(),
            source,
        };
        let mut env = base_environment()?;
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
            let entry = entry.map_err(|e| io_err(dir, e))?;
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            if !name.ends_with(".j2") || !path.is_file() {
                continue;
            }
            let source = read_template(&path).map_err(|e| io_err(&path, e))?;
            env.add_template_owned(name.clone(), source)?;
            names.push(name);
        }
        for (name, source) in [
            (HTML_TEMPLATE, DEFAULT_HTML_TEMPLATE),
            (TEXT_TEMPLATE, DEFAULT_TEXT_TEMPLATE),
            (LINK_HTML_TEMPLATE, DEFAULT_LINK_HTML_TEMPLATE),
            (LINK_TEXT_TEMPLATE, DEFAULT_LINK_TEXT_TEMPLATE),
        ] {
            if !names.iter().any(|loaded| loaded == name) {
                env.add_template(name, source)?;
            }
        }
        let own = |name: &str| names.iter().any(|loaded| loaded == name);
        let built_in = BuiltIn {
            html: !own(HTML_TEMPLATE),
            text: !own(TEXT_TEMPLATE),
        };
        let renderer = Renderer { env, built_in };
        let sample = Receipt::sample();
        renderer.render_html(&sample)?;
        renderer.render_text(&sample)?;
        Ok(renderer)
    }

    /// The email's HTML body.
    pub fn render_html(&self, receipt: &Receipt) -> Result<String, RenderError> {
        if self.built_in.html {
            return Ok(built_in::html(&ReceiptView::new(receipt)?));
        }
        self.interpret(HTML_TEMPLATE, receipt)
    }

    /// The email's plain-text alternative.
    pub fn render_text(&self, receipt: &Receipt) -> Result<String, RenderError> {
        if self.built_in.text {
            return Ok(built_in::text(&ReceiptView::new(receipt)?));
        }
        self.interpret(TEXT_TEMPLATE, receipt)
    }

    /// The email's HTML body and plain-text alternative together: the view
    /// is built and handed to the template engine once for both (a send
    /// needs both; building it was a good part of rendering's cost).
    pub fn render_email(&self, receipt: &Receipt) -> Result<(String, String), RenderError> {
        let view = ReceiptView::new(receipt)?;
        // Handed to MiniJinja once for both, if either is a shop's own.
        let value = std::cell::OnceCell::new();
        let value = || value.get_or_init(|| Value::from(Serde(&view)));
        let html = if self.built_in.html {
            built_in::html(&view)
        } else {
            self.env.get_template(HTML_TEMPLATE)?.render(value())?
        };
        let text = if self.built_in.text {
            built_in::text(&view)
        } else {
            self.env.get_template(TEXT_TEMPLATE)?.render(value())?
        };
        Ok((html, text))
    }

    /// The receipt as a PDF document (not template-based; see
    /// [`super::pdf`]).
    pub fn render_pdf(&self, receipt: &Receipt) -> Result<Vec<u8>, RenderError> {
        super::pdf::render_pdf(receipt)
    }

    /// The secure-link message: (HTML, plain text).
    pub fn render_link(&self, msg: &LinkMessage) -> Result<(String, String), RenderError> {
        let html = self
            .env
            .get_template(LINK_HTML_TEMPLATE)?
            .render(Value::from(Serde(msg)))?;
        let text = self
            .env
            .get_template(LINK_TEXT_TEMPLATE)?
            .render(Value::from(Serde(msg)))?;
        Ok((html, text))
    }

    /// `receipt` through the template `name`, interpreted by MiniJinja.
    fn interpret(&self, name: &str, receipt: &Receipt) -> Result<String, RenderError> {
        let view = ReceiptView::new(receipt)?;
        let template = self.env.get_template(name)?;
        Ok(template.render(Value::from(Serde(&view)))?)
    }
}

fn read_template(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_TEMPLATE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_TEMPLATE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "template is larger than 1 MiB",
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "template is not UTF-8"))
}

fn base_environment() -> Result<Environment<'static>, RenderError> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        let name = name.strip_suffix(".j2").unwrap_or(name);
        if name.ends_with(".html") || name.ends_with(".htm") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()?,
    );
    env.add_filter("ljust", ljust);
    env.add_filter("rjust", rjust);
    env.add_filter("wrap", wrap);
    env.add_function("t", translate);
    Ok(env)
}

/// `{{ t("receipt-total-currency", currency=currency) }}`: the catalogue
/// message in the language of the template's `lang` variable (English when
/// there is none), see [`crate::i18n`].
fn translate(
    state: &minijinja::State,
    key: &str,
    kwargs: minijinja::value::Kwargs,
) -> Result<String, minijinja::Error> {
    let lang = state
        .lookup("lang")
        .map(|v| display(&v))
        .unwrap_or_default();
    let mut values = Vec::new();
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        values.push((name.to_owned(), display(&value)));
    }
    let args: Vec<(&str, &str)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Ok(crate::i18n::text(&lang, key, &args))
}

fn clamp_width(width: i64) -> usize {
    usize::try_from(width).unwrap_or(0).min(MAX_FILTER_WIDTH)
}

fn display(value: &Value) -> String {
    if value.is_undefined() || value.is_none() {
        String::new()
    } else {
        value.to_string()
    }
}

/// `{{ value|ljust(20) }}`: pads with spaces on the right to `width`
/// characters (longer text is left as is).
fn ljust(value: &Value, width: i64) -> String {
    let mut out = String::new();
    built_in::ljust(&mut out, &display(value), clamp_width(width));
    out
}

/// `{{ value|rjust(10) }}`: pads with spaces on the left to `width`.
fn rjust(value: &Value, width: i64) -> String {
    let mut out = String::new();
    built_in::rjust(&mut out, &display(value), clamp_width(width));
    out
}

/// `{% for line in value|wrap(30) %}`: word-wraps to lines of at most
/// `width` characters (always at least one line).
fn wrap(value: &Value, width: i64) -> Vec<String> {
    let width = clamp_width(width).max(1);
    // `usize` to `f32` is exact for widths up to MAX_FILTER_WIDTH.
    view::wrap(&display(value), width as f32, |_| 1.0)
}

#[cfg(test)]
mod tests {
    use super::super::model::LineItem;
    use super::*;

    #[test]
    fn link_message_escapes_names() {
        let msg = LinkMessage {
            lang: "en".into(),
            shop_name: "Shop".into(),
            customer_name: "<script>x</script>".into(),
            order_number: "A-1".into(),
            url: "https://r.example/r/abc".into(),
            expires: "2026-12-01 10:00 UTC".into(),
            support_email: "help@shop.example".into(),
            footer: "Thanks".into(),
        };
        let (html, text) = ok(renderer().render_link(&msg));
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
        assert!(text.contains("https://r.example/r/abc") && text.contains("<script>x</script>"));
    }

    #[test]
    fn the_email_pair_is_the_two_bodies_rendered_alone() {
        let r = renderer();
        let receipt = Receipt::sample();
        let (html, text) = ok(r.render_email(&receipt));
        assert_eq!(html, ok(r.render_html(&receipt)));
        assert_eq!(text, ok(r.render_text(&receipt)));
        assert!(html.contains(&receipt.order_number) && text.contains(&receipt.order_number));
    }

    fn renderer() -> Renderer {
        Renderer::new().unwrap_or_else(|e| panic!("{e}"))
    }

    fn ok<T>(result: Result<T, RenderError>) -> T {
        result.unwrap_or_else(|e| panic!("{e}"))
    }

    fn hostile() -> Receipt {
        let mut receipt = Receipt::sample();
        receipt.customer_name = "<script>alert(1)</script>".to_owned();
        receipt.customer_email = "\"><img src=x onerror=alert(2)>@x.com".to_owned();
        receipt.items[0].name = "<b>x</b>".to_owned();
        receipt.order_number = "R-1&2'\"".to_owned();
        receipt.branding.shop_name = "Tom & Jerry's <Shop>".to_owned();
        receipt.branding.footer_text = "<a href=\"http://evil\">click</a>".to_owned();
        receipt.branding.logo_url = Some("javascript:alert(3)".to_owned());
        receipt.billing_address = Some(vec!["<i>street</i>".to_owned()]);
        receipt
    }

    /// The built-in bodies written in Rust ([`built_in`]) are the bytes
    /// MiniJinja makes of the template files, over receipts that take every
    /// branch of the templates, in each catalogue language and in one
    /// without a catalogue.
    #[test]
    fn same_bytes_as_the_templates() {
        let r = renderer();
        let mut receipts = vec![Receipt::sample(), hostile()];
        let mut bare = Receipt::sample();
        bare.discount_minor = 0;
        bare.shipping_minor = 0;
        bare.billing_address = None;
        bare.branding.logo_url = None;
        bare.branding.footer_text = " \r\n ".to_owned();
        bare.items.clear();
        receipts.push(bare);
        let mut long = Receipt::sample();
        long.items.push(LineItem {
            name: format!("{} {}", "x".repeat(90), "word ".repeat(30)),
            quantity: 1_000_000,
            unit_price_minor: 123_456_789,
        });
        long.branding.footer_text = "line one\r\nline two/<&>".to_owned();
        long.billing_address = Some(vec![String::new(), "a/b 'c'".to_owned()]);
        long.currency = "IDR".to_owned();
        receipts.push(long);
        let mut all = Vec::new();
        for receipt in receipts {
            for locale in ["en", "id-ID", "fr-CA", "zz", ""] {
                let mut receipt = receipt.clone();
                receipt.locale = locale.to_owned();
                all.push(receipt);
            }
        }
        for receipt in &all {
            let view = ok(ReceiptView::new(receipt));
            let html = ok(r.interpret(HTML_TEMPLATE, receipt));
            assert_eq!(built_in::html(&view), html, "{:?}", receipt.locale);
            let text = ok(r.interpret(TEXT_TEMPLATE, receipt));
            assert_eq!(built_in::text(&view), text, "{:?}", receipt.locale);
            assert_eq!(ok(r.render_email(receipt)), (html, text));
        }
    }

    #[test]
    fn a_shops_own_template_is_interpreted_beside_a_built_in_one() {
        let dir = temp_dir("own-text");
        write(&dir, TEXT_TEMPLATE, "Text for {{ order_number }}");
        let own = ok(Renderer::with_template_dir(&dir));
        let receipt = Receipt::sample();
        let (html, text) = ok(own.render_email(&receipt));
        assert_eq!(text, "Text for R-1001");
        assert_eq!(html, ok(renderer().render_html(&receipt)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn html_escapes_everything() {
        let html = ok(renderer().render_html(&hostile()));
        for raw in [
            "<script>",
            "<b>x</b>",
            "<img src=x",
            "<Shop>",
            "<a href=\"http://evil\"",
            "<i>street",
            "javascript:",
        ] {
            assert!(!html.contains(raw), "unescaped {raw:?} in HTML");
        }
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
        assert!(html.contains("&lt;b&gt;x&lt;&#x2f;b&gt;"));
        assert!(html.contains("Tom &amp; Jerry&#x27;s &lt;Shop&gt;"));
    }

    #[test]
    fn html_contains_the_receipt() {
        let html = ok(renderer().render_html(&Receipt::sample()));
        assert!(html.starts_with("<!DOCTYPE html>"));
        for expected in [
            "R-1001",
            "Northwind Goods",
            "Organic cotton T-shirt (M, navy)",
            "$50.00",
            "$12.99",
            "-$5.00",
            "$67.98",
            "May 1, 2024",
            "src=\"https:&#x2f;&#x2f;shop.example.com&#x2f;logo.png\"",
            "mailto:help@northwind.example.com",
            "12 St James&#x27;s Square",
        ] {
            assert!(html.contains(expected), "missing {expected:?}");
        }
        // Email clients need inline styles: no <style> block, no classes.
        assert!(!html.contains("<style"));
        assert!(!html.contains("class="));
    }

    #[test]
    fn html_hides_zero_discount_and_shipping() {
        let mut receipt = Receipt::sample();
        receipt.discount_minor = 0;
        receipt.shipping_minor = 0;
        let html = ok(renderer().render_html(&receipt));
        assert!(!html.contains("Discount"));
        assert!(!html.contains("Shipping"));
        assert!(html.contains("Tax"));
    }

    #[test]
    fn text_is_not_escaped() {
        let text = ok(renderer().render_text(&hostile()));
        assert!(text.contains("<script>alert(1)</script>"));
        assert!(text.contains("<b>x</b>"));
        assert!(text.contains("Tom & Jerry's <Shop>"));
        assert!(!text.contains("&lt;"));
    }

    #[test]
    fn text_layout_is_aligned() {
        let mut receipt = Receipt::sample();
        receipt.items.push(LineItem {
            name: "A very long product name that certainly does not fit into one \
                   column of the plain text receipt"
                .to_owned(),
            quantity: 1_000,
            unit_price_minor: 123_456,
        });
        let text = ok(renderer().render_text(&receipt));
        let lines: Vec<&str> = text.lines().collect();
        let header = lines
            .iter()
            .find(|line| line.starts_with("Item"))
            .unwrap_or_else(|| panic!("no header in\n{text}"));
        let width = header.chars().count();
        assert!(width <= view::TEXT_WIDTH, "{width}");
        assert!(header.ends_with("Amount"));
        // Every amount, item and totals alike, ends in the same column.
        let money_lines: Vec<&&str> = lines.iter().filter(|line| line.contains('$')).collect();
        assert!(money_lines.len() >= 8, "{text}");
        for line in &money_lines {
            assert_eq!(line.chars().count(), width, "misaligned: {line:?}\n{text}");
        }
        assert!(text.contains("$1,234,560.00"));
        assert!(
            lines
                .iter()
                .any(|l| l.trim_start().starts_with("Total (USD)") && l.ends_with("$67.98"))
        );
        // The long name was wrapped, not cut.
        assert!(text.contains("receipt"));
        assert!(text.contains("Order:     R-1001"));
        assert!(text.contains("Date:      May 1, 2024"), "{text}");
        assert!(
            text.replace('\u{202f}', " ").contains("2:03 PM UTC"),
            "{text}"
        );
        assert!(text.contains("Ada Lovelace"));
    }

    #[test]
    fn unknown_currency_is_an_error() {
        let mut receipt = Receipt::sample();
        receipt.currency = "ZZZ".to_owned();
        assert!(matches!(
            renderer().render_html(&receipt),
            Err(RenderError::UnknownCurrency(code)) if code == "ZZZ"
        ));
    }

    #[test]
    fn other_currencies_render() {
        let mut receipt = Receipt::sample();
        receipt.currency = "JPY".to_owned();
        let text = ok(renderer().render_text(&receipt));
        assert!(text.contains("¥6,798"), "{text}");
        receipt.currency = "KWD".to_owned();
        let html = ok(renderer().render_html(&receipt)).replace('\u{a0}', " ");
        assert!(html.contains("KWD 6.798"), "{html}");
    }

    #[test]
    fn filters() {
        assert_eq!(ljust(&Value::from("ab"), 4), "ab  ");
        assert_eq!(rjust(&Value::from(7), 3), "  7");
        assert_eq!(rjust(&Value::from("€1.00"), 6), " €1.00");
        assert_eq!(ljust(&Value::from("abcdef"), 2), "abcdef");
        assert_eq!(ljust(&Value::UNDEFINED, -5), "");
        assert_eq!(rjust(&Value::from("x"), i64::MAX).len(), MAX_FILTER_WIDTH);
        assert_eq!(wrap(&Value::from("aa bb"), 0), vec!["a", "a", "b", "b"]);
    }

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "rebound-receipt-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        ok(
            std::fs::create_dir_all(&dir).map_err(|e| RenderError::TemplateDir {
                path: dir.clone(),
                source: e,
            }),
        );
        dir
    }

    fn write(dir: &Path, name: &str, contents: &str) {
        std::fs::write(dir.join(name), contents).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn template_override_from_directory() {
        let dir = temp_dir("override");
        write(
            &dir,
            "layout.html.j2",
            "<main>{% block body %}{% endblock %}</main>",
        );
        write(
            &dir,
            HTML_TEMPLATE,
            "{% extends \"layout.html.j2\" %}{% block body %}Custom receipt {{ order_number }} \
             for {{ customer.name }}: {{ total }}{% endblock %}",
        );
        let renderer = ok(Renderer::with_template_dir(&dir));
        let mut receipt = hostile();
        receipt.order_number = "R-77".to_owned();
        let html = ok(renderer.render_html(&receipt));
        assert_eq!(
            html,
            "<main>Custom receipt R-77 for &lt;script&gt;alert(1)&lt;&#x2f;script&gt;: $67.98</main>"
        );
        // The text template was not overridden: the default is used.
        let text = ok(renderer.render_text(&receipt));
        assert_eq!(text, ok(self::renderer().render_text(&receipt)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn broken_or_missing_template_dirs_are_errors() {
        let dir = temp_dir("broken");
        write(&dir, TEXT_TEMPLATE, "{% for x in %}");
        assert!(matches!(
            Renderer::with_template_dir(&dir),
            Err(RenderError::Template(_))
        ));
        write(&dir, TEXT_TEMPLATE, "{{ 1 + }}");
        assert!(Renderer::with_template_dir(&dir).is_err());
        // A runtime failure is found at load time too.
        write(&dir, TEXT_TEMPLATE, "{{ total|no_such_filter }}");
        assert!(Renderer::with_template_dir(&dir).is_err());
        let _ = std::fs::remove_dir_all(&dir);
        assert!(matches!(
            Renderer::with_template_dir(&dir),
            Err(RenderError::TemplateDir { .. })
        ));
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let mut receipt = hostile();
        receipt.items.push(LineItem {
            name: "\u{0}\u{202e}😀 ".repeat(200),
            quantity: u32::MAX,
            unit_price_minor: i64::MIN,
        });
        receipt.subtotal_minor = i64::MIN;
        receipt.discount_minor = i64::MIN;
        receipt.total_minor = i64::MAX;
        receipt.placed_at = i64::MIN;
        receipt.items.push(LineItem {
            name: String::new(),
            quantity: 0,
            unit_price_minor: 0,
        });
        let r = renderer();
        ok(r.render_html(&receipt));
        ok(r.render_text(&receipt));
        receipt.items.clear();
        receipt.billing_address = None;
        receipt.branding.logo_url = None;
        ok(r.render_html(&receipt));
        ok(r.render_text(&receipt));
    }
}
