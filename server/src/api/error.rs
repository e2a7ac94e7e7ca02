use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use engine::orders::FieldError;

/// An API error: a status and a JSON body that says what to fix.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub fields: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// A body that is not one JSON document (e.g. data after the object).
    pub fn bad_request(fields: Vec<FieldError>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: "the body must be exactly one JSON object".into(),
            fields,
        }
    }

    pub fn invalid(fields: Vec<FieldError>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: "the order has invalid fields".into(),
            fields,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = super::views::ErrorBody {
            error: self.message,
            fields: self.fields,
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<engine::Error> for ApiError {
    fn from(e: engine::Error) -> Self {
        use engine::Error;
        match e {
            Error::Invalid(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m),
            Error::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, m),
            Error::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
            other => {
                tracing::error!(error = %other, "API request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; it has been logged",
                )
            }
        }
    }
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such API endpoint")
}

/// Turns a plain-text client error (axum's own rejections: body over the
/// limit, unreadable body, bad path) into the API's JSON error body, so every
/// 4xx under `/api/v1` says what went wrong the same way.
pub async fn json_client_errors(res: Response) -> Response {
    let status = res.status();
    let is_json = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !status.is_client_error() || is_json {
        return res;
    }
    let text = axum::body::to_bytes(res.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is over the size limit".to_string(),
        _ if text.is_empty() => status
            .canonical_reason()
            .unwrap_or("bad request")
            .to_lowercase(),
        _ => text,
    };
    ApiError::new(status, message).into_response()
}
