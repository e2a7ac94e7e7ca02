//! ESP event webhooks: `POST /api/v1/webhooks/{provider}` for every provider of
//! `engine::bounce::esp::Provider` (`ses`, `sendgrid`, `postmark`, `mailgun`, `postal`,
//! `sparkpost`, `brevo`, `mailjet`, `resend`, `mailersend`, `mandrill`).
//!
//! Providers authenticate with their own signatures or credentials, not with API keys, so the
//! route sits outside the API-key middleware. Every request takes the engine's one path
//! (`engine::bounces::handle_esp_request`): verify → parse → normalise → dedupe → classify
//! (`engine::bounce::esp::pipeline`) → apply.
//!
//! Answers: 404 for an unknown or unconfigured provider, 401 for bad or missing authentication
//! (counted in `webhook_rejections`), 400 for a body that is not what the provider sends, 503
//! when the SNS certificate cannot be fetched right now (SNS retries) or the provider is
//! misconfigured, 200 otherwise, also for repeats and event kinds Rebound does not know.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use engine::bounce::esp::pipeline::{Context, EventOutcome, Inbound, Refused};
use engine::bounce::esp::registry::Registry;
use engine::bounce::esp::{self, EspError, Provider};
use serde::Serialize;
use utoipa::ToSchema;

use super::views::ErrorBody;
use super::{ApiError, ApiState};

/// One event of an accepted request.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEvent {
    /// `bounced`, `deferred`, `rejected`, `complained`, `unsubscribed` or `delivered`.
    pub kind: String,
    /// A hard bounce, or a rejection of the address itself: the address is suppressed.
    pub hard: bool,
    /// The recipient, as the provider named it.
    pub recipient: Option<String>,
    /// Applied from an earlier request already: not stored again.
    pub duplicate: bool,
}

/// Answer to an accepted webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAccepted {
    /// Bounce, deferral, rejection, complaint, unsubscribe and delivery events in the request
    /// (opens, clicks and other events are ignored).
    pub events: usize,
    /// Each of them, in the order given.
    pub outcomes: Vec<WebhookEvent>,
    /// Events stored by an earlier request (a provider's retry): not stored again.
    pub duplicates: usize,
    /// Event kinds Rebound does not know (counted per provider and kind, shown on the admin
    /// webhooks page).
    pub unknown: Vec<String>,
    /// Events tied to a send attempt (by our Message-ID, else by the recipient).
    pub matched: usize,
    /// Events no send could be tied to: kept and shown, never dropped.
    pub unmatched: usize,
    /// The stored bounces (deliveries are written on the order's timeline only).
    pub bounce_ids: Vec<i64>,
    /// SES only: `confirmed` after an SNS SubscriptionConfirmation, `unsubscribed` after an
    /// UnsubscribeConfirmation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
}

/// The webhook handlers' state: the API state and every provider's verifier.
#[derive(Clone)]
pub struct Hooks {
    api: ApiState,
    registry: std::sync::Arc<Registry>,
}

impl Hooks {
    fn new(api: ApiState) -> Hooks {
        let registry = Registry::new(&api.config.esp_webhooks, api.config.public_url.as_deref());
        for (p, err) in registry.configured() {
            match err {
                Some(e) => {
                    tracing::error!(provider = %p, error = %e, "ESP webhook misconfigured; it answers 503")
                }
                None => tracing::debug!(provider = %p, "ESP webhook configured"),
            }
        }
        Hooks {
            api,
            registry: std::sync::Arc::new(registry),
        }
    }

    /// Turns a refusal into the answer, counting authentication failures.
    async fn refuse(&self, provider: Provider, e: EspError) -> ApiError {
        match e {
            EspError::NotConfigured(_) => ApiError::new(StatusCode::NOT_FOUND, e.to_string()),
            EspError::Config(m) => {
                tracing::error!(provider = %provider, error = %m, "ESP webhook misconfigured");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("the {provider} webhook is misconfigured; see the server log"),
                )
            }
            EspError::Unauthorized(reason, m) => {
                tracing::warn!(provider = %provider, reason = reason.as_str(), detail = %m, "ESP webhook request refused");
                if let Err(err) = engine::bounces::record_webhook_rejection(
                    &self.api.db,
                    self.api.clock.now_ms(),
                    provider.as_str(),
                    reason.as_str(),
                )
                .await
                {
                    tracing::error!(error = %err, "counting a webhook rejection failed");
                }
                ApiError::new(StatusCode::UNAUTHORIZED, m)
            }
            EspError::Malformed(m) => ApiError::new(StatusCode::BAD_REQUEST, m),
            EspError::Unavailable(m) => {
                tracing::warn!(provider = %provider, detail = %m, "ESP webhook cannot be verified now");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, m)
            }
        }
    }
}

/// The webhook route (no API key; each provider's own authentication), bodies up to 1 MiB.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route(
            "/api/v1/webhooks/{provider}",
            post(receive).head(exists).get(exists),
        )
        .layer(DefaultBodyLimit::max(esp::MAX_BODY))
        .with_state(Hooks::new(state))
}

/// `HEAD` / `GET`: some providers (Mandrill, MailerSend) check that the URL exists before
/// they save a webhook. 204 for a configured provider, 404 otherwise.
async fn exists(State(h): State<Hooks>, Path(provider): Path<String>) -> StatusCode {
    match Provider::from_name(&provider).map(|p| h.registry.verifier(p)) {
        Some(Ok(_)) => StatusCode::NO_CONTENT,
        _ => StatusCode::NOT_FOUND,
    }
}

/// Events from an email service provider, authenticated as that provider documents:
/// `ses` (SNS RSA signature, topic in `esp_webhooks.sns_topic_arns`), `sendgrid` (ECDSA,
/// `sendgrid_public_key`), `postmark`, `sparkpost`, `brevo`, `mailjet` (HTTP basic auth,
/// `<provider>_credentials`), `mailgun` (HMAC in the body, `mailgun_signing_key`), `postal`
/// (RSA `X-Postal-Signature`, `postal_public_key`), `resend` (Svix, `resend_signing_secret`),
/// `mailersend` (HMAC `Signature`, `mailersend_signing_secret`), `mandrill` (HMAC-SHA1
/// `X-Mandrill-Signature`, `mandrill_webhook_key`). See docs/webhooks.md.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{provider}",
    params(("provider" = String, Path, description = "ses, sendgrid, postmark, mailgun, postal, sparkpost, brevo, mailjet, resend, mailersend or mandrill")),
    request_body(content = String, content_type = "application/json", description = "The provider's own payload (Mandrill: a form with `mandrill_events`)"),
    responses(
        (status = 200, description = "Verified and applied (repeats and unknown event kinds too), or the SNS subscription confirmed", body = WebhookAccepted),
        (status = 400, description = "Not what the provider sends", body = ErrorBody),
        (status = 401, description = "Missing or bad signature or credentials, stale timestamp (counted)", body = ErrorBody),
        (status = 404, description = "Unknown provider, or its webhook is not configured", body = ErrorBody),
        (status = 413, description = "Over 1 MiB"),
        (status = 503, description = "Misconfigured, or the SNS signing certificate cannot be fetched now", body = ErrorBody),
    ),
)]
pub async fn receive(
    State(h): State<Hooks>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAccepted>, ApiError> {
    let Some(p) = Provider::from_name(&provider) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no such webhook provider",
        ));
    };
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
        .collect();
    let req = Inbound {
        headers: &pairs,
        body: &body,
    };
    let policy = engine::delivery::policy::RetryPolicy::from_config(&h.api.config.delivery);
    let cx = Context {
        db: &h.api.db,
        now: h.api.clock.now_ms(),
        registry: &h.registry,
        classifier: engine::bounce::Classifier::shared(),
        max_age_seconds: h.api.config.esp_webhooks.max_age_seconds,
    };
    let out = match engine::bounces::handle_esp_request(&cx, &policy, p, &req).await {
        Ok(out) => out,
        Err(Refused::Esp(e)) => return Err(h.refuse(p, e).await),
        Err(Refused::Store(e)) => return Err(e.into()),
    };
    let duplicates = out.events.iter().filter(|e| e.duplicate).count();
    for e in &out.events {
        tracing::debug!(
            provider = %p,
            kind = e.kind.as_str(),
            hard = e.hard,
            duplicate = e.duplicate,
            recipient = %e.recipient.as_deref().map(engine::privacy::mask_email).unwrap_or_default(),
            "ESP event"
        );
    }
    if !out.unknown.is_empty() {
        tracing::warn!(provider = %p, kinds = ?out.unknown, "ESP event kinds not known (counted)");
    }
    tracing::info!(provider = %p, events = out.events.len(), duplicates, matched = out.matched, unmatched = out.unmatched, "ESP webhook applied");
    if !out.bounce_ids.is_empty() {
        // A late bounce may have scheduled a retry.
        h.api.wake.notify_one();
    }
    Ok(Json(WebhookAccepted {
        events: out.events.len(),
        outcomes: out.events.into_iter().map(view).collect(),
        duplicates,
        unknown: out.unknown,
        matched: out.matched,
        unmatched: out.unmatched,
        bounce_ids: out.bounce_ids,
        subscription: out.subscription,
    }))
}

fn view(e: EventOutcome) -> WebhookEvent {
    WebhookEvent {
        kind: e.kind.as_str().to_string(),
        hard: e.hard,
        recipient: e.recipient,
        duplicate: e.duplicate,
    }
}
