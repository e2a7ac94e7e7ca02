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
