//! PDF receipts, laid out by hand with `pdf-writer`.
//!
//! The document uses the PDF standard fonts Helvetica and Helvetica-Bold with
//! WinAnsiEncoding, so no font file is embedded and nothing is needed from
//! the system. Those fonts can draw Windows-1252 (Latin-1 plus `€`, curly
//! quotes, dashes, …); any other character is drawn as `?`, and a currency
//! whose symbol is outside that set is written with its code (`INR 12.00`).
//!
//! Content streams are not compressed, so the text can be found in the bytes
//! (receipts are small; this keeps them greppable and testable).

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::RenderError;
use super::model::Receipt;
use super::view::{self, ReceiptView};

const PAGE_WIDTH: f32 = 595.0; // A4, points
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;
const RIGHT: f32 = PAGE_WIDTH - MARGIN;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// Lowest y that body content may reach; the page footer sits below it.
const BOTTOM: f32 = MARGIN + 24.0;
const FOOTER_Y: f32 = MARGIN - 10.0;

const BODY_SIZE: f32 = 10.0;
const BODY_LEADING: f32 = 13.0;
const SMALL_SIZE: f32 = 8.0;
const COLUMN_GAP: f32 = 14.0;
const MIN_NAME_COLUMN: f32 = 120.0;

const INK: f32 = 0.1;
const MUTED: f32 = 0.42;
const RULE: f32 = 0.8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
}

impl Font {
    fn resource(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
        }
    }

    /// Advance width of `ch` in 1/1000 em. `ch` must already be one that
    /// [`to_winansi`] encodes; anything else is measured as a digit.
    fn char_units(self, ch: char) -> u16 {
        let table = match self {
            Font::Regular => &HELVETICA,
            Font::Bold => &HELVETICA_BOLD,
        };
        to_winansi(ch)
            .and_then(|byte| table.get(usize::from(byte).checked_sub(32)?))
            .copied()
            .filter(|units| *units > 0)
            .unwrap_or(556)
    }

    fn width(self, text: &str, size: f32) -> f32 {
        let units: u32 = text.chars().map(|c| u32::from(self.char_units(c))).sum();
        // Precision loss is irrelevant at the sizes involved.
        units as f32 * size / 1000.0
    }
}

/// Renders `receipt` as a PDF document.
pub fn render_pdf(receipt: &Receipt) -> Result<Vec<u8>, RenderError> {
    let view = ReceiptView::new(receipt)?;
    let drawable = [&view.subtotal, &view.discount, &view.total]
        .into_iter()
        .all(|amount| amount.chars().all(|c| to_winansi(c).is_some()));
    let view = if drawable {
        view
    } else {
        ReceiptView::styled(receipt, true)?
    };
    let pages = layout(&view);
    write_pdf(&view, pages)
}

/// One drawing operation on a page. Text is already sanitized.
#[derive(Debug)]
enum Op {
    Text {
        x: f32,
        y: f32,
        font: Font,
        size: f32,
        gray: f32,
        text: String,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
        gray: f32,
    },
}

struct Columns {
    name: f32,
    qty_right: f32,
    price_right: f32,
}

struct Layout<'a> {
    view: &'a ReceiptView,
    pages: Vec<Vec<Op>>,
    /// Baseline of the next line to draw.
    y: f32,
}

impl Layout<'_> {
    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn text(&mut self, x: f32, font: Font, size: f32, gray: f32, text: &str) {
        let text = sanitize(text);
        if text.trim().is_empty() {
            return;
        }
        let y = self.y;
        self.ops().push(Op::Text {
            x,
            y,
            font,
            size,
            gray,
            text,
        });
    }

    fn text_right(&mut self, right: f32, font: Font, size: f32, gray: f32, text: &str) {
        let width = font.width(&sanitize(text), size);
        self.text(right - width, font, size, gray, text);
    }

    fn rule(&mut self, y: f32, width: f32, gray: f32) {
        self.ops().push(Op::Line {
            x1: MARGIN,
            y1: y,
            x2: RIGHT,
            y2: y,
            width,
            gray,
        });
    }

    /// Starts a new page if `height` more points do not fit on this one.
    /// Returns whether a page was started.
    fn ensure(&mut self, height: f32) -> bool {
        if self.y - height < BOTTOM {
            self.new_page();
            true
        } else {
            false
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = PAGE_HEIGHT - MARGIN - SMALL_SIZE;
        let heading = format!(
            "{}  |  Receipt {} (continued)",
            self.view.shop.name, self.view.order_number
        );
        let heading = truncate_to_width(
            &sanitize(&heading),
            Font::Regular,
            SMALL_SIZE,
            CONTENT_WIDTH,
        );
        self.text(MARGIN, Font::Regular, SMALL_SIZE, MUTED, &heading);
        self.y -= 24.0;
    }

    /// Wrapped paragraph across the content width.
    fn paragraph(&mut self, text: &str, font: Font, size: f32, gray: f32) {
        let leading = size * 1.35;
        for source_line in text.lines() {
            for line in wrap(source_line, font, size, CONTENT_WIDTH) {
                self.ensure(leading);
                self.text(MARGIN, font, size, gray, &line);
                self.y -= leading;
            }
        }
    }

    fn table_header(&mut self, cols: &Columns) {
        let y = self.y;
        let view = self.view;
        self.text(
            MARGIN,
            Font::Bold,
            SMALL_SIZE,
            MUTED,
            &heading(view, "receipt-item"),
        );
        let qty = heading(view, "receipt-qty");
        self.text_right(cols.qty_right, Font::Bold, SMALL_SIZE, MUTED, &qty);
        let price = heading(view, "receipt-unit-price");
        self.text_right(cols.price_right, Font::Bold, SMALL_SIZE, MUTED, &price);
        let amount = heading(view, "receipt-amount");
        self.text_right(RIGHT, Font::Bold, SMALL_SIZE, MUTED, &amount);
        self.rule(y - 6.0, 1.0, INK);
        self.y -= 6.0 + BODY_LEADING + 2.0;
    }
}

/// A table heading in the receipt's language, upper case, drawable.
fn heading(view: &ReceiptView, key: &str) -> String {
    sanitize(&view.language.t(key, &[]).to_uppercase())
}

/// The receipt laid out on A4 pages, top to bottom: header, billed to, the
/// items, the totals kept together, the footer.
fn layout(view: &ReceiptView) -> Vec<Vec<Op>> {
    let mut l = Layout {
        view,
        pages: vec![Vec::new()],
        y: PAGE_HEIGHT - MARGIN - 20.0,
    };
    l.header();
    l.billed_to();
    let (cols, amount_width) = columns(view);
    l.items(&cols);
    l.totals(amount_width);
    l.footer();
    l.pages
}

/// The items table's columns, sized to their widest cell; also the amount
/// column's width, which the totals line up with.
fn columns(view: &ReceiptView) -> (Columns, f32) {
    let qty_width = view
        .items
        .iter()
        .map(|item| Font::Regular.width(&item.quantity.to_string(), BODY_SIZE))
        .fold(
            Font::Bold.width(&heading(view, "receipt-qty"), SMALL_SIZE),
            f32::max,
        );
    let price_width = view
        .items
        .iter()
        .map(|item| Font::Regular.width(&sanitize(&item.unit_price), BODY_SIZE))
        .fold(
            Font::Bold.width(&heading(view, "receipt-unit-price"), SMALL_SIZE),
            f32::max,
        );
    let amount_width = view
        .items
        .iter()
        .map(|item| item.line_total.as_str())
        .chain([
            view.subtotal.as_str(),
            view.discount.as_str(),
            view.shipping.as_str(),
            view.tax.as_str(),
        ])
        .map(|text| Font::Regular.width(&sanitize(text), BODY_SIZE))
        .chain([Font::Bold.width(&sanitize(&view.total), 12.0)])
        .fold(
            Font::Bold.width(&heading(view, "receipt-amount"), SMALL_SIZE),
            f32::max,
        );
    let price_right = RIGHT - amount_width - COLUMN_GAP;
    let qty_right = price_right - price_width - COLUMN_GAP;
    let cols = Columns {
        name: (qty_right - qty_width - COLUMN_GAP - MARGIN).max(MIN_NAME_COLUMN),
        qty_right,
        price_right,
    };
    (cols, amount_width)
}

impl Layout<'_> {
    /// Shop name on the left, order number and date on the right.
    fn header(&mut self) {
        let view = self.view;
        let order_label = view
            .language
            .t("receipt-order-number", &[("order", &view.order_number)]);
        let right_block_width = [
            Font::Bold.width(&sanitize(&order_label), 11.0),
            Font::Regular.width(&sanitize(&view.placed_at), BODY_SIZE),
        ]
        .into_iter()
        .fold(0.0f32, f32::max)
        .min(CONTENT_WIDTH / 2.0);
        // At most three lines of shop name, so the header never needs a page
        // break.
        let mut shop_lines = wrap(
            &view.shop.name,
            Font::Bold,
            20.0,
            CONTENT_WIDTH - right_block_width - COLUMN_GAP,
        );
        if shop_lines.len() > 3 {
            shop_lines.truncate(3);
            if let Some(last) = shop_lines.last_mut() {
                *last = truncate_to_width(
                    &format!("{last}\u{2026}"),
                    Font::Bold,
                    20.0,
                    CONTENT_WIDTH - right_block_width - COLUMN_GAP,
                );
            }
        }
        let top = self.y;
        for line in &shop_lines {
            self.text(MARGIN, Font::Bold, 20.0, INK, line);
            self.y -= 24.0;
        }
        let after_shop = self.y;
        self.y = top;
        let order = truncate_to_width(
            &sanitize(&order_label),
            Font::Bold,
            11.0,
            CONTENT_WIDTH / 2.0,
        );
        self.text_right(RIGHT, Font::Bold, 11.0, INK, &order);
        self.y -= 15.0;
        self.text_right(RIGHT, Font::Regular, BODY_SIZE, MUTED, &view.placed_at);
        self.y = after_shop.min(top - 30.0);

        self.y -= 8.0;
        self.ensure(40.0);
        self.text(
            MARGIN,
            Font::Bold,
            14.0,
            INK,
            &sanitize(&view.language.t("receipt-heading", &[])),
        );
        self.y -= 26.0;
    }

    fn billed_to(&mut self) {
        let view = self.view;
        self.ensure(30.0);
        let billed_to = sanitize(&view.language.t("receipt-billed-to", &[]).to_uppercase());
        self.text(MARGIN, Font::Bold, SMALL_SIZE, MUTED, &billed_to);
        self.y -= BODY_LEADING;
        let customer = [view.customer.name.as_str(), view.customer.email.as_str()];
        for line in customer
            .into_iter()
            .chain(view.billing_address.iter().map(String::as_str))
        {
            self.paragraph(line, Font::Regular, BODY_SIZE, INK);
        }
        self.y -= 16.0;
    }

    fn items(&mut self, cols: &Columns) {
        let view = self.view;
        self.ensure(BODY_LEADING * 3.0);
        self.table_header(cols);
        for item in &view.items {
            let lines = wrap(&item.name, Font::Regular, BODY_SIZE, cols.name);
            // Keep at least the first line with its numbers.
            if self.ensure(BODY_LEADING) {
                self.table_header(cols);
            }
            self.text_right(
                cols.qty_right,
                Font::Regular,
                BODY_SIZE,
                INK,
                &item.quantity.to_string(),
            );
            self.text_right(
                cols.price_right,
                Font::Regular,
                BODY_SIZE,
                INK,
                &item.unit_price,
            );
            self.text_right(RIGHT, Font::Regular, BODY_SIZE, INK, &item.line_total);
            for (index, line) in lines.iter().enumerate() {
                if index > 0 && self.ensure(BODY_LEADING) {
                    self.table_header(cols);
                }
                self.text(MARGIN, Font::Regular, BODY_SIZE, INK, line);
                self.y -= BODY_LEADING;
            }
            let y = self.y + BODY_LEADING - 4.0;
            self.rule(y, 0.5, RULE);
            self.y -= 4.0;
        }
    }

    /// Kept together on one page.
    fn totals(&mut self, amount_width: f32) {
        let view = self.view;
        let mut rows: Vec<(String, &str)> = vec![(
            view.language.t("receipt-subtotal", &[]),
            view.subtotal.as_str(),
        )];
        if view.has_discount {
            rows.push((
                view.language.t("receipt-discount", &[]),
                view.discount.as_str(),
            ));
        }
        if view.has_shipping {
            rows.push((
                view.language.t("receipt-shipping", &[]),
                view.shipping.as_str(),
            ));
        }
        rows.push((view.language.t("receipt-tax", &[]), view.tax.as_str()));
        let row_count = u16::try_from(rows.len()).unwrap_or(u16::MAX);
        self.y -= 6.0;
        self.ensure(f32::from(row_count) * 15.0 + 30.0);
        let label_right = RIGHT - amount_width - COLUMN_GAP;
        for (label, amount) in rows {
            self.text_right(
                label_right,
                Font::Regular,
                BODY_SIZE,
                MUTED,
                &sanitize(&label),
            );
            self.text_right(RIGHT, Font::Regular, BODY_SIZE, INK, amount);
            self.y -= 15.0;
        }
        let y = self.y + 10.0;
        let x1 = (label_right - 120.0).max(MARGIN);
        self.ops().push(Op::Line {
            x1,
            y1: y,
            x2: RIGHT,
            y2: y,
            width: 1.0,
            gray: INK,
        });
        self.y -= 6.0;
        let total_label = sanitize(
            &view
                .language
                .t("receipt-total-currency", &[("currency", view.currency)]),
        );
        self.text_right(label_right, Font::Bold, 12.0, INK, &total_label);
        self.text_right(RIGHT, Font::Bold, 12.0, INK, &view.total);
        self.y -= 36.0;
    }

    /// Footer text and support contact.
    fn footer(&mut self) {
        let view = self.view;
        if !view.shop.footer_text.is_empty() {
            self.paragraph(&view.shop.footer_text, Font::Regular, 9.0, MUTED);
            self.y -= 6.0;
        }
        let support = format!(
            "{} {}",
            view.language.t("receipt-questions", &[]),
            view.shop.support_email
        );
        self.paragraph(&support, Font::Regular, 9.0, MUTED);
    }
}

fn write_pdf(view: &ReceiptView, pages: Vec<Vec<Op>>) -> Result<Vec<u8>, RenderError> {
    const CATALOG: i32 = 1;
    const PAGE_TREE: i32 = 2;
    const REGULAR: i32 = 3;
    const BOLD: i32 = 4;
    const INFO: i32 = 5;
    const FIRST_PAGE: i32 = 6;

    let count = i32::try_from(pages.len())
        .ok()
        .filter(|count| *count < (i32::MAX - FIRST_PAGE) / 2)
        .ok_or_else(|| RenderError::Pdf("too many pages".to_owned()))?;
    let page_ref = |index: i32| Ref::new(FIRST_PAGE + 2 * index);
    let content_ref = |index: i32| Ref::new(FIRST_PAGE + 2 * index + 1);

    let mut pdf = Pdf::new();
    pdf.catalog(Ref::new(CATALOG)).pages(Ref::new(PAGE_TREE));
    pdf.pages(Ref::new(PAGE_TREE))
        .kids((0..count).map(page_ref))
        .count(count);
    for (id, base) in [(REGULAR, &b"Helvetica"[..]), (BOLD, &b"Helvetica-Bold"[..])] {
        pdf.type1_font(Ref::new(id))
            .base_font(Name(base))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    let title = view.language.t(
        "receipt-document-title",
        &[("order", &view.order_number), ("shop", &view.shop.name)],
    );
    pdf.document_info(Ref::new(INFO))
        .title(TextStr(&title))
        .producer(TextStr("Rebound"));

    for (index, ops) in (0..count).zip(pages) {
        let mut page = pdf.page(page_ref(index));
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        page.parent(Ref::new(PAGE_TREE));
        page.contents(content_ref(index));
        let mut resources = page.resources();
        let mut fonts = resources.fonts();
        fonts.pair(Font::Regular.resource(), Ref::new(REGULAR));
        fonts.pair(Font::Bold.resource(), Ref::new(BOLD));
        fonts.finish();
        resources.finish();
        page.finish();

        let mut content = Content::new();
        for op in &ops {
            draw(&mut content, op);
        }
        let footer = sanitize(&view.language.t(
            "receipt-page-footer",
            &[
                ("order", &view.order_number),
                ("page", &(index + 1).to_string()),
                ("pages", &count.to_string()),
            ],
        ));
        let footer = truncate_to_width(&footer, Font::Regular, SMALL_SIZE, CONTENT_WIDTH);
        draw(
            &mut content,
            &Op::Text {
                x: RIGHT - Font::Regular.width(&footer, SMALL_SIZE),
                y: FOOTER_Y,
                font: Font::Regular,
                size: SMALL_SIZE,
                gray: MUTED,
                text: footer,
            },
        );
        pdf.stream(content_ref(index), &content.finish());
    }
    Ok(pdf.finish())
}

fn draw(content: &mut Content, op: &Op) {
    match op {
        Op::Text {
            x,
            y,
            font,
            size,
            gray,
            text,
        } => {
            let bytes: Vec<u8> = text
                .chars()
                .map(|c| to_winansi(c).unwrap_or(b'?'))
                .collect();
            content.set_fill_gray(*gray);
            content.begin_text();
            content.set_font(font.resource(), *size);
            content.next_line(*x, *y);
            content.show(Str(&bytes));
            content.end_text();
        }
        Op::Line {
            x1,
            y1,
            x2,
            y2,
            width,
            gray,
        } => {
            content.set_stroke_gray(*gray);
            content.set_line_width(*width);
            content.move_to(*x1, *y1);
            content.line_to(*x2, *y2);
            content.stroke();
        }
    }
}

fn wrap(text: &str, font: Font, size: f32, max: f32) -> Vec<String> {
    let text = sanitize(text);
    view::wrap(&text, max, |c| {
        f32::from(font.char_units(c)) * size / 1000.0
    })
}

fn truncate_to_width(text: &str, font: Font, size: f32, max: f32) -> String {
    if font.width(text, size) <= max {
        return text.to_owned();
    }
    let ellipsis = '\u{2026}';
    let budget = max - font.width("\u{2026}", size);
    let mut out = String::new();
    let mut width = 0.0;
    for ch in text.chars() {
        let w = f32::from(font.char_units(ch)) * size / 1000.0;
        if width + w > budget {
            break;
        }
        width += w;
        out.push(ch);
    }
    out.push(ellipsis);
    out
}

/// Replaces what the standard fonts cannot draw: control characters and
/// other whitespace become spaces, characters outside Windows-1252 become
/// `?`.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || (c.is_whitespace() && c != '\u{a0}') {
                ' '
            } else if to_winansi(c).is_some() {
                c
            } else {
                match c {
                    '\u{2212}' | '\u{2010}' | '\u{2011}' => '-',
                    _ => '?',
                }
            }
        })
        .collect()
}

/// The WinAnsiEncoding (Windows-1252) byte for `c`, if it has one.
fn to_winansi(c: char) -> Option<u8> {
    let code = u32::from(c);
    match code {
        0x20..=0x7e | 0xa0..=0xff => u8::try_from(code).ok(),
        _ => Some(match c {
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8a,
            '‹' => 0x8b,
            'Œ' => 0x8c,
            'Ž' => 0x8e,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9a,
            '›' => 0x9b,
            'œ' => 0x9c,
            'ž' => 0x9e,
            'Ÿ' => 0x9f,
            _ => return None,
        }),
    }
}

/// Helvetica advance widths (1/1000 em) for WinAnsi codes 32..=255, from the
/// Adobe Core 14 font metrics (0 = no glyph).
#[rustfmt::skip]
static HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0,
    556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,
    0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667,
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
];

/// Helvetica-Bold advance widths (1/1000 em) for WinAnsi codes 32..=255.
#[rustfmt::skip]
static HELVETICA_BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0,
    556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,
    0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667,
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278,
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
];

#[cfg(test)]
#[path = "pdf_tests.rs"]
pub(super) mod tests;
