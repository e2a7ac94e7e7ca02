//! The built-in receipt templates (`engine/templates/receipt.{html,txt}.j2`)
//! written out in Rust: the bytes MiniJinja makes of them, without
//! interpreting a template for every send (interpreting them was a fifth of
//! a sending worker's CPU). A shop's own templates still go through
//! MiniJinja, and `same_bytes_as_the_templates` holds this file to the
//! templates' output; change both together.

use super::view::{ReceiptView, wrap};

/// `receipt.html.j2`.
pub(super) fn html(v: &ReceiptView) -> String {
    let t = |key: &str| v.language.t(key, &[]);
    let mut out = String::with_capacity(8 * 1024);
    let o = &mut out;
    o.push_str("<!DOCTYPE html>\n<html lang=\"");
    esc(o, &v.lang);
    o.push_str(
        "\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"x-apple-disable-message-reformatting\">\n<title>",
    );
    esc(
        o,
        &v.language
            .t("receipt-title", &[("order", v.order_number.as_str())]),
    );
    o.push_str(
        "</title>\n</head>\n\
         <body style=\"margin:0;padding:0;background-color:#f4f4f5;-webkit-text-size-adjust:100%;\">\n\
         <div style=\"display:none;max-height:0;overflow:hidden;mso-hide:all;\">",
    );
    esc(
        o,
        &v.language.t(
            "receipt-preheader",
            &[
                ("shop", v.shop.name.as_str()),
                ("order", v.order_number.as_str()),
                ("total", v.total.as_str()),
            ],
        ),
    );
    o.push_str(
        "</div>\n\
<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"background-color:#f4f4f5;\">
  <tr>
    <td align=\"center\" style=\"padding:24px 12px;\">
      <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"width:100%;max-width:600px;background-color:#ffffff;border:1px solid #e4e4e7;border-radius:8px;font-family:Helvetica,Arial,sans-serif;color:#18181b;\">
        <tr>
          <td style=\"padding:28px 28px 8px 28px;\">
",
    );
    match v.shop.logo_url.as_deref().filter(|url| !url.is_empty()) {
        Some(url) => {
            o.push_str("            <img src=\"");
            esc(o, url);
            o.push_str("\" alt=\"");
            esc(o, &v.shop.name);
            o.push_str(
                "\" height=\"48\" style=\"display:block;height:48px;width:auto;max-width:100%;border:0;outline:none;text-decoration:none;\">\n",
            );
        }
        None => {
            o.push_str(
                "            <div style=\"font-size:22px;line-height:28px;font-weight:bold;\">",
            );
            esc(o, &v.shop.name);
            o.push_str("</div>\n");
        }
    }
    o.push_str(
        "          </td>
        </tr>
        <tr>
          <td style=\"padding:16px 28px 0 28px;\">
            <h1 style=\"margin:0;font-size:20px;line-height:26px;font-weight:bold;\">",
    );
    esc(o, &t("receipt-heading"));
    o.push_str("</h1>\n            <p style=\"margin:6px 0 0 0;font-size:14px;line-height:20px;color:#52525b;\">");
    esc(o, &t("receipt-order"));
    o.push_str(" <strong style=\"color:#18181b;\">");
    esc(o, &v.order_number);
    o.push_str("</strong> &middot; ");
    esc(o, &v.placed_at_date);
    o.push_str(
        "</p>
          </td>
        </tr>
        <tr>
          <td style=\"padding:20px 28px 0 28px;font-size:14px;line-height:20px;\">
            <div style=\"color:#71717a;font-size:12px;line-height:16px;text-transform:uppercase;letter-spacing:0.5px;\">",
    );
    esc(o, &t("receipt-billed-to"));
    o.push_str("</div>\n            <div style=\"margin-top:4px;\">");
    esc(o, &v.customer.name);
    o.push_str("</div>\n            <div style=\"color:#52525b;word-break:break-all;\">");
    esc(o, &v.customer.email);
    o.push_str("</div>\n");
    for line in &v.billing_address {
        o.push_str("            <div style=\"color:#52525b;\">");
        esc(o, line);
        o.push_str("</div>\n");
    }
    const HEADING: &str = "border-bottom:2px solid #18181b;font-size:12px;line-height:16px;color:#71717a;text-transform:uppercase;letter-spacing:0.5px;font-weight:normal;";
    o.push_str(
        "          </td>
        </tr>
        <tr>
          <td style=\"padding:20px 28px 0 28px;\">
            <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"font-size:15px;line-height:20px;\">
              <tr>
                <th align=\"left\" style=\"padding:0 0 8px 0;",
    );
    o.push_str(HEADING);
    o.push_str("\">");
    esc(o, &t("receipt-item"));
    o.push_str("</th>\n                <th align=\"right\" style=\"padding:0 0 8px 12px;");
    o.push_str(HEADING);
    o.push_str("\">");
    esc(o, &t("receipt-amount"));
    o.push_str("</th>\n              </tr>\n");
    for item in &v.items {
        o.push_str(
            "              <tr>
                <td style=\"padding:12px 0;border-bottom:1px solid #e4e4e7;vertical-align:top;word-break:break-word;\">",
        );
        esc(o, &item.name);
        o.push_str("<br><span style=\"font-size:13px;color:#71717a;\">");
        o.push_str(&item.quantity.to_string());
        o.push_str(" &times; ");
        esc(o, &item.unit_price);
        o.push_str(
            "</span></td>
                <td align=\"right\" style=\"padding:12px 0 12px 12px;border-bottom:1px solid #e4e4e7;vertical-align:top;white-space:nowrap;\">",
        );
        esc(o, &item.line_total);
        o.push_str("</td>\n              </tr>\n");
    }
    o.push_str(
        "            </table>
          </td>
        </tr>
        <tr>
          <td style=\"padding:12px 28px 0 28px;\">
            <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"font-size:14px;line-height:20px;\">
",
    );
    let amount_row = |o: &mut String, label: &str, amount: &str, extra_style: &str| {
        o.push_str(
            "              <tr>\n                <td style=\"padding:4px 0;color:#52525b;\">",
        );
        esc(o, label);
        o.push_str(
            "</td>\n                <td align=\"right\" style=\"padding:4px 0;white-space:nowrap;",
        );
        o.push_str(extra_style);
        o.push_str("\">");
        esc(o, amount);
        o.push_str("</td>\n              </tr>\n");
    };
    amount_row(o, &t("receipt-subtotal"), &v.subtotal, "");
    if v.has_discount {
        amount_row(o, &t("receipt-discount"), &v.discount, "color:#15803d;");
    }
    if v.has_shipping {
        amount_row(o, &t("receipt-shipping"), &v.shipping, "");
    }
    amount_row(o, &t("receipt-tax"), &v.tax, "");
    o.push_str(
        "              <tr>
                <td style=\"padding:10px 0 0 0;border-top:2px solid #18181b;font-size:16px;font-weight:bold;\">",
    );
    esc(
        o,
        &v.language
            .t("receipt-total-currency", &[("currency", v.currency)]),
    );
    o.push_str(
        "</td>
                <td align=\"right\" style=\"padding:10px 0 0 0;border-top:2px solid #18181b;font-size:16px;font-weight:bold;white-space:nowrap;\">",
    );
    esc(o, &v.total);
    o.push_str(
        "</td>
              </tr>
            </table>
          </td>
        </tr>
        <tr>
          <td style=\"padding:28px 28px 28px 28px;font-size:13px;line-height:19px;color:#71717a;\">
",
    );
    if !v.shop.footer_text.is_empty() {
        o.push_str("            <p style=\"margin:0 0 8px 0;white-space:pre-line;\">");
        esc(o, &v.shop.footer_text);
        o.push_str("</p>\n");
    }
    o.push_str("            <p style=\"margin:0;\">");
    esc(o, &t("receipt-questions"));
    o.push_str(" <a href=\"mailto:");
    esc(o, &v.shop.support_email);
    o.push_str("\" style=\"color:#2563eb;\">");
    esc(o, &v.shop.support_email);
    o.push_str(
        "</a>.</p>
          </td>
        </tr>
      </table>
    </td>
  </tr>
</table>
</body>
</html>
",
    );
    out
}

/// `receipt.txt.j2`.
pub(super) fn text(v: &ReceiptView) -> String {
    let t = |key: &str| v.language.t(key, &[]);
    let cols = &v.cols;
    let mut out = String::with_capacity(2 * 1024);
    let o = &mut out;
    let (order, date, customer) = (t("receipt-order"), t("receipt-date"), t("receipt-customer"));
    let label_width = [&order, &date, &customer]
        .iter()
        .map(|label| label.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let label = |o: &mut String, text: &str| ljust(o, &format!("{text}:"), label_width);
    line(o, &[&v.shop.name]);
    line(o, &[&t("receipt-heading").to_uppercase()]);
    o.push('\n');
    label(o, &order);
    line(o, &[" ", &v.order_number]);
    label(o, &date);
    line(o, &[" ", &v.placed_at]);
    label(o, &customer);
    line(o, &[" ", &v.customer.name, " <", &v.customer.email, ">"]);
    if !v.billing_address.is_empty() {
        o.push('\n');
        line(o, &[&t("receipt-billed-to"), ":"]);
        for address in &v.billing_address {
            line(o, &["  ", address]);
        }
    }
    o.push('\n');
    ljust(o, &t("receipt-item"), cols.name);
    o.push_str("  ");
    rjust(o, &t("receipt-qty"), cols.qty);
    o.push_str("  ");
    rjust(o, &t("receipt-unit-price"), cols.price);
    o.push_str("  ");
    rjust(o, &t("receipt-amount"), cols.amount);
    line(o, &[]);
    line(o, &[&cols.rule]);
    for item in &v.items {
        let name_lines = wrap(&item.name, cols.name.max(1) as f32, |_| 1.0);
        ljust(o, name_lines.first().map_or("", String::as_str), cols.name);
        o.push_str("  ");
        rjust(o, &item.quantity.to_string(), cols.qty);
        o.push_str("  ");
        rjust(o, &item.unit_price, cols.price);
        o.push_str("  ");
        rjust(o, &item.line_total, cols.amount);
        line(o, &[]);
        for more in name_lines.iter().skip(1) {
            line(o, &[more]);
        }
    }
    line(o, &[&cols.rule]);
    let total = |o: &mut String, label: &str, amount: &str| {
        rjust(o, label, cols.label);
        o.push_str("  ");
        rjust(o, amount, cols.amount);
        line(o, &[]);
    };
    total(o, &t("receipt-subtotal"), &v.subtotal);
    if v.has_discount {
        total(o, &t("receipt-discount"), &v.discount);
    }
    if v.has_shipping {
        total(o, &t("receipt-shipping"), &v.shipping);
    }
    total(o, &t("receipt-tax"), &v.tax);
    total(
        o,
        &v.language
            .t("receipt-total-currency", &[("currency", v.currency)]),
        &v.total,
    );
    if !v.shop.footer_text.is_empty() {
        o.push('\n');
        line(o, &[&v.shop.footer_text]);
    }
    o.push('\n');
    line(o, &[&t("receipt-questions"), " ", &v.shop.support_email]);
    out
}

/// The parts, then a line break.
fn line(o: &mut String, parts: &[&str]) {
    for part in parts {
        o.push_str(part);
    }
    o.push('\n');
}

/// The `ljust` filter: `text`, then spaces to `width` characters.
pub(super) fn ljust(o: &mut String, text: &str, width: usize) {
    o.push_str(text);
    pad(o, width.saturating_sub(text.chars().count()));
}

/// The `rjust` filter: spaces to `width` characters, then `text`.
pub(super) fn rjust(o: &mut String, text: &str, width: usize) {
    pad(o, width.saturating_sub(text.chars().count()));
    o.push_str(text);
}

fn pad(o: &mut String, spaces: usize) {
    o.extend(std::iter::repeat_n(' ', spaces));
}

/// `text` HTML-escaped by MiniJinja's own escaper, as its templates escape.
fn esc(o: &mut String, text: &str) {
    use std::fmt::Write;
    // Writing to a String cannot fail.
    let _ = write!(o, "{}", minijinja::HtmlEscape(text));
}
