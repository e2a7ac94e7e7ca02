//! Receipt rendering: the HTML email, its plain-text alternative and a PDF.
//!
//! ```text
//! use engine::receipt::{Receipt, Renderer};
//!
//! let renderer = Renderer::new()?; // or Renderer::with_template_dir("shop/templates")?
//! let receipt: Receipt = /* from the order */;
//! let html = renderer.render_html(&receipt)?;
//! let text = renderer.render_text(&receipt)?;
//! let pdf = renderer.render_pdf(&receipt)?;
//! ```
//!
//! * [`model`]: the [`Receipt`] data, amounts in minor units.
//! * [`money`]: ISO 4217 exponents and the one money format used everywhere
//!   (`crate::money`, in the foundation layer; re-exported here).
//! * [`render`]: the [`Renderer`] holding the compiled MiniJinja templates
//!   (defaults in `engine/templates/`, embedded at compile time; a shop can
//!   supply its own directory).
//! * `built_in`: the built-in receipt bodies written in Rust, the same bytes
//!   as their templates without interpreting them for every send.
//! * [`pdf`]: the PDF layout (standard Helvetica fonts, nothing embedded).
//!
//! Nothing here panics on input data: bad data is either shown as text
//! (escaped in HTML) or reported as a [`RenderError`].

mod built_in;
mod for_order;
pub mod model;
pub mod pdf;
pub mod render;
mod view;

use std::path::PathBuf;
use std::sync::OnceLock;

pub use self::model::{Branding, LineItem, Receipt, TotalsError};
pub use self::render::{LinkMessage, Renderer};
pub use crate::money::{self, format_minor, is_known_currency, minor_unit_exponent};

/// Why a receipt could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The receipt's currency is not a known ISO 4217 code, so its amounts
    /// cannot be formatted.
    #[error("unknown currency code {0:?}")]
    UnknownCurrency(String),
    /// A template failed to compile or render.
    #[error("receipt template error: {0}")]
    Template(#[from] minijinja::Error),
    /// A shop template directory or file could not be read.
    #[error("cannot read receipt templates at {}: {source}", path.display())]
    TemplateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The built-in templates failed to load (a bug in this module).
    #[error("built-in receipt templates are broken: {0}")]
    DefaultTemplates(String),
    /// The PDF could not be produced.
    #[error("cannot produce the receipt PDF: {0}")]
    Pdf(String),
}

/// The shared renderer with the built-in templates, compiled once.
fn default_renderer() -> Result<&'static Renderer, RenderError> {
    static DEFAULT: OnceLock<Result<Renderer, String>> = OnceLock::new();
    DEFAULT
        .get_or_init(|| Renderer::new().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| RenderError::DefaultTemplates(e.clone()))
}

/// Renders the HTML email body with the built-in template.
pub fn render_html(receipt: &Receipt) -> Result<String, RenderError> {
    default_renderer()?.render_html(receipt)
}

/// Renders the plain-text email body with the built-in template.
pub fn render_text(receipt: &Receipt) -> Result<String, RenderError> {
    default_renderer()?.render_text(receipt)
}

/// The receipt with every amount and date formatted, as JSON (the same
/// values the templates get, minus the plain-text column widths): for the
/// customer page and the inline-receipt API.
pub fn view_json(receipt: &Receipt) -> Result<serde_json::Value, RenderError> {
    let view = view::ReceiptView::new(receipt)?;
    let mut value =
        serde_json::to_value(&view).map_err(|e| RenderError::DefaultTemplates(e.to_string()))?;
    if let Some(obj) = value.as_object_mut() {
        obj.remove("cols");
    }
    Ok(value)
}

/// Renders the receipt as a PDF document.
pub fn render_pdf(receipt: &Receipt) -> Result<Vec<u8>, RenderError> {
    pdf::render_pdf(receipt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_functions_use_the_default_templates() {
        let receipt = Receipt::sample();
        let html = render_html(&receipt).unwrap_or_else(|e| panic!("{e}"));
        assert!(html.contains("R-1001"));
        let text = render_text(&receipt).unwrap_or_else(|e| panic!("{e}"));
        assert!(text.contains("R-1001"));
        let pdf = render_pdf(&receipt).unwrap_or_else(|e| panic!("{e}"));
        assert!(pdf.starts_with(b"%PDF"));
        let shown = pdf::tests::shown_strings(&pdf);
        assert!(shown.iter().any(|s| s == "Order R-1001"), "{shown:?}");
    }

    #[test]
    fn renderer_is_shareable() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Renderer>();
        assert_send_sync::<RenderError>();
    }
}
