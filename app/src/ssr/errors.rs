use http::StatusCode;
use http::request::Parts;
use leptos::prelude::{ServerFnError, use_context};
use leptos_axum::ResponseOptions;

/// An error with an HTTP status the caller can see. A plain form post
/// (JavaScript off) keeps leptos' redirect back to the form, which carries the
/// message in the URL, so its status is left alone.
pub fn fail(status: StatusCode, message: impl Into<String>) -> ServerFnError {
    let form_post = use_context::<Parts>().is_some_and(|p| {
        p.headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    });
    if !form_post && let Some(res) = use_context::<ResponseOptions>() {
        res.set_status(status);
    }
    ServerFnError::new(message.into())
}

/// Maps engine errors to statuses; internal details are logged, not shown.
pub fn engine_error(e: engine::Error) -> ServerFnError {
    use engine::Error;
    match e {
        Error::Invalid(m) => fail(StatusCode::UNPROCESSABLE_ENTITY, m),
        Error::NotFound(m) => fail(StatusCode::NOT_FOUND, format!("Not found: {m}")),
        Error::Conflict(m) => fail(StatusCode::CONFLICT, m),
        other => {
            tracing::error!(error = %other, "server function failed");
            fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on the server. It has been logged.",
            )
        }
    }
}
