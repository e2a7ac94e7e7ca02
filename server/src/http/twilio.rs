//! `POST /hooks/twilio/status`: Twilio's status callbacks for SMS, WhatsApp
//! messages and calls. Only requests carrying a valid `X-Twilio-Signature`
//! (HMAC-SHA1 with the account's auth token over the full URL and the sorted
//! form parameters) are read; anything else gets 403. SMS and WhatsApp may
//! use different Twilio accounts: a signature by either configured token is
//! accepted. No session, no CSRF origin check: Twilio signs instead.

use app::ssr::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

pub const STATUS_PATH: &str = "/hooks/twilio/status";

/// Status callbacks are a few hundred bytes.
const MAX_BODY: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(STATUS_PATH, post(status))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// The URL Twilio signed: `public_url` + path when configured (behind a
/// proxy the `Host` header may not be what Twilio called), else the `Host`.
fn signed_url(public_url: Option<&str>, headers: &HeaderMap, uri: &Uri) -> Option<String> {
    let path = uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or(uri.path());
    match public_url {
        Some(base) => Some(format!("{}{path}", base.trim_end_matches('/'))),
        None => {
            let host = headers.get(header::HOST)?.to_str().ok()?;
            Some(format!("http://{host}{path}"))
        }
    }
}

async fn status(State(st): State<AppState>, headers: HeaderMap, uri: Uri, body: Bytes) -> Response {
    let tokens = twilio_tokens(&st.config);
    if tokens.is_empty() {
        return (StatusCode::NOT_FOUND, "Twilio is not configured").into_response();
    }
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok());
    let url = signed_url(st.config.public_url.as_deref(), &headers, &uri);
    let valid = match (signature, url) {
        (Some(sig), Some(url)) => tokens
            .iter()
            .any(|token| engine::sms::twilio::verify_request(token, &url, &body, sig)),
        _ => false,
    };
    if !valid {
        tracing::warn!("refused a Twilio status callback with a bad or missing signature");
        engine::metrics::webhook_verification_failure("twilio");
        return (StatusCode::FORBIDDEN, "bad signature").into_response();
    }
    let params = engine::sms::twilio::form_params(&body);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    // SMS callbacks carry MessageSid/MessageStatus, calls CallSid/CallStatus.
    let (sid, status) = match (get("MessageSid"), get("MessageStatus")) {
        (Some(sid), Some(status)) => (sid, status),
        _ => match (get("CallSid"), get("CallStatus")) {
            (Some(sid), Some(status)) => (sid, status),
            _ => return (StatusCode::BAD_REQUEST, "no sid or status").into_response(),
        },
    };
    let now = st.clock.now_ms();
    match engine::sms::record_status(&st.db, now, sid, status).await {
        Ok(Some(row)) => {
            // A fallback WhatsApp message that failed sends its order to support.
            if let Err(e) =
                engine::fallback::whatsapp::after_status(&st.db, now, &st.config, &row).await
            {
                tracing::error!(error = %e, id = row.id, "escalating a failed WhatsApp message failed");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(None) => {
            // Not ours (or not stored yet): answered 2xx so Twilio does not alarm.
            tracing::info!(sid, status, "Twilio status for an unknown sid");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(engine::Error::Invalid(m)) => (StatusCode::BAD_REQUEST, m).into_response(),
        Err(e) => {
            tracing::error!(error = %e, sid, "recording a Twilio status failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The auth tokens whose signatures are accepted: the SMS account's and the
/// WhatsApp account's, for each channel that uses Twilio.
fn twilio_tokens(config: &engine::Config) -> Vec<&str> {
    let mut tokens = Vec::new();
    if config.sms.provider == "twilio"
        && let Some(t) = config.sms.twilio_auth_token.as_deref()
    {
        tokens.push(t);
    }
    if config.whatsapp.provider == "twilio"
        && let Some(t) = config.whatsapp.auth_token(&config.sms)
        && !tokens.contains(&t)
    {
        tokens.push(t);
    }
    tokens.retain(|t| !t.is_empty());
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_url_prefers_public_url() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:3000".parse().expect("header"));
        let uri: Uri = "/hooks/twilio/status?x=1".parse().expect("uri");
        assert_eq!(
            signed_url(Some("https://r.example.com/"), &h, &uri).as_deref(),
            Some("https://r.example.com/hooks/twilio/status?x=1")
        );
        assert_eq!(
            signed_url(None, &h, &uri).as_deref(),
            Some("http://127.0.0.1:3000/hooks/twilio/status?x=1")
        );
        assert_eq!(signed_url(None, &HeaderMap::new(), &uri), None);
    }
}
