//! The one error type of the server functions: what the browser shows (the
//! message) and the HTTP status it came with. On the server, an engine error
//! becomes one with `?` (`From<engine::Error>`: bad input 422, unknown 404,
//! conflict 409, anything else 500 with the details logged, never shown).

use std::fmt;

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// A failed server function, as it crosses the wire (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    /// The HTTP status of the failure (0: the server was not reached).
    pub status: u16,
    /// Safe to show: never internal details.
    pub message: String,
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

const UNREACHABLE: &str = "The server could not be reached. Check your connection and try again.";

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// Failures of the server-function machinery itself (the request did not
    /// arrive, an argument did not parse, the answer did not decode).
    fn from_server_fn_error(e: ServerFnErrorErr) -> Self {
        match e {
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => Self {
                status: 0,
                message: UNREACHABLE.into(),
            },
            // On the server: the arguments did not parse. The caller's mistake.
            ServerFnErrorErr::Args(m)
            | ServerFnErrorErr::MissingArg(m)
            | ServerFnErrorErr::Deserialization(m) => Self {
                status: 400,
                message: m,
            },
            ServerFnErrorErr::ServerError(m) => Self {
                status: 500,
                message: m,
            },
            other => Self {
                status: 500,
                message: other.to_string(),
            },
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// A failure with `status`, which the response carries too. A plain form
    /// post (JavaScript off) keeps leptos' redirect back to the form, which
    /// carries the message in the URL, so its status is left alone.
    pub fn new(status: http::StatusCode, message: impl Into<String>) -> Self {
        use http::request::Parts;
        use leptos::prelude::use_context;
        let form_post = use_context::<Parts>().is_some_and(|p| {
            p.headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        });
        if !form_post && let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(status);
        }
        Self {
            status: status.as_u16(),
            message: message.into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<engine::Error> for AppError {
    fn from(e: engine::Error) -> Self {
        use engine::Error;
        use http::StatusCode;
        match e {
            Error::Invalid(m) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, m),
            Error::NotFound(m) => Self::new(StatusCode::NOT_FOUND, format!("Not found: {m}")),
            Error::Conflict(m) => Self::new(StatusCode::CONFLICT, m),
            other => {
                tracing::error!(error = %other, "server function failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on the server. It has been logged.",
                )
            }
        }
    }
}
