//! The customer's pages (`/r/{token}`) leave with no script at all. The
//! shell already leaves out the hydration scripts there
//! (`app::is_customer_page`), but Leptos still writes its small inline
//! bootstrap (`__RESOLVED_RESOURCES=[]…`) into every rendered page; on a
//! page that never hydrates it does nothing, so it is taken out here, where
//! the guarantee holds whatever the render writes.

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
    let page = strip_scripts(&String::from_utf8_lossy(&bytes));
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

#[cfg(test)]
mod tests {
    use super::strip_scripts;

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
