//! The customer's pages (`/r/{token}`) leave with no script at all. The
//! shell already leaves out the hydration scripts there
//! (`app::is_customer_page`), but Leptos still writes its small inline
//! bootstrap (`__RESOLVED_RESOURCES=[]…`) into every rendered page; on a
//! page that never hydrates it does nothing, so it is taken out here, where
//! the guarantee holds whatever the render writes.
//!
//! The page is in the customer's language; the shell writes `<html lang="en">`
//! before the page is known, so the page's `lang` is lifted onto `<html>` here.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// A customer page is a few kilobytes; anything larger is not one of them.
const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;

pub async fn without_scripts(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/r/") {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE_BYTES).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let page = lift_lang(&strip_scripts(&String::from_utf8_lossy(&bytes)));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(page))
}

/// Removes every `<script …>…</script>` element. Text the page shows is
/// escaped by the render (`&lt;script`), so only real tags match.
fn strip_scripts(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        out.push_str(&rest[..start]);
        rest = match rest[start..].find("</script>") {
            Some(end) => &rest[start + end + "</script>".len()..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// Copies the language of the page (`<div class="customer-page" lang="id-ID">`)
/// onto the document's `<html lang="…">`.
fn lift_lang(html: &str) -> String {
    let lang = html.find("class=\"customer-page\"").and_then(|at| {
        let start = html[..at].rfind('<')?;
        let end = at + html[at..].find('>')?;
        let tag = &html[start..end];
        let value = &tag[tag.find("lang=\"")? + "lang=\"".len()..];
        value.find('"').map(|close| &value[..close])
    });
    match lang {
        Some(lang)
            if !lang.is_empty()
                && lang.len() <= 35
                && lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            html.replacen("<html lang=\"en\">", &format!("<html lang=\"{lang}\">"), 1)
        }
        _ => html.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{lift_lang, strip_scripts};

    #[test]
    fn the_page_language_goes_onto_html() {
        let page = "<!DOCTYPE html><html lang=\"en\"><body><div class=\"customer-page\" lang=\"id-ID\">x</div></body></html>";
        assert!(lift_lang(page).starts_with("<!DOCTYPE html><html lang=\"id-ID\">"));
        let first = "<html lang=\"en\"><div lang=\"id\" class=\"customer-page\">";
        assert!(lift_lang(first).starts_with("<html lang=\"id\">"));
        let bad = "<html lang=\"en\"><div class=\"customer-page\" lang=\"a b\">";
        assert_eq!(lift_lang(bad), bad);
        assert_eq!(
            lift_lang("<html lang=\"en\"><p>staff</p>"),
            "<html lang=\"en\"><p>staff</p>"
        );
    }

    #[test]
    fn scripts_go_and_everything_else_stays() {
        let page = "<head><script nonce=\"n\">__RESOLVED_RESOURCES=[];</script>\
                    <link rel=\"stylesheet\" href=\"/pkg/rebound.css\"></head>\
                    <body><p>&lt;script&gt; in an item name</p><script>x()</script></body>";
        assert_eq!(
            strip_scripts(page),
            "<head><link rel=\"stylesheet\" href=\"/pkg/rebound.css\"></head>\
             <body><p>&lt;script&gt; in an item name</p></body>"
        );
        assert_eq!(strip_scripts("<p>a</p><script>unclosed"), "<p>a</p>");
        assert_eq!(strip_scripts("no scripts"), "no scripts");
    }
}
