//! ESP event webhooks: `POST /api/v1/webhooks/{ses,sendgrid,postmark,mailgun}`.
//!
//! Providers authenticate with their own signatures, not with API keys, so these routes sit
//! outside the API-key middleware. Each request is verified (see `engine::bounce::esp`),
//! normalised and applied through `engine::bounces::ingest_esp_events`, exactly like a DSN.
//!
//! Answers: 404 when the provider is not configured, 401 for a bad signature or credentials
//! (counted in `webhook_rejections`), 400 for a body that is not what the provider sends, 503
//! when the SNS certificate cannot be fetched right now (SNS retries), 200 with counts.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use axum::{Json, Router};
use engine::bounce::esp::mailgun::MailgunVerifier;
use engine::bounce::esp::postmark::PostmarkAuth;
use engine::bounce::esp::sendgrid::{SIGNATURE_HEADER, SendGridVerifier, TIMESTAMP_HEADER};
use engine::bounce::esp::ses::{SnsSettings, SnsVerifier};
use engine::bounce::esp::{self, EspError, EspEvent, Provider};
use serde::Serialize;
use utoipa::ToSchema;

use super::views::ErrorBody;
use super::{ApiError, ApiState};

/// Answer to an accepted webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAccepted {
    /// Bounce, deferral, complaint and delivery events in the request (opens, clicks and
    /// other events are ignored).
    pub events: usize,
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

/// A provider's verifier: absent when not configured, an error when misconfigured.
type Slot<T> = Option<Result<T, String>>;

/// The webhook handlers' state: the API state and each provider's verifier.
#[derive(Clone)]
pub struct Hooks {
    api: ApiState,
    ses: Slot<Arc<SnsVerifier>>,
    sendgrid: Slot<SendGridVerifier>,
    postmark: Slot<PostmarkAuth>,
    mailgun: Slot<Arc<MailgunVerifier>>,
}

fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Hooks {
    fn new(api: ApiState) -> Hooks {
        let c = &api.config.esp_webhooks;
        let ses = (!c.sns_topic_arns.is_empty()).then(|| {
            SnsVerifier::new(&SnsSettings {
                topic_arns: c.sns_topic_arns.clone(),
                host_pattern: c.sns_host_pattern.clone(),
                allow_http: c.sns_allow_http,
            })
            .map(Arc::new)
            .map_err(|e| e.to_string())
        });
        let sendgrid = set(&c.sendgrid_public_key)
            .map(|k| SendGridVerifier::new(k).map_err(|e| e.to_string()));
        let postmark = match (set(&c.postmark_username), set(&c.postmark_password)) {
            (Some(u), Some(p)) => Some(Ok(PostmarkAuth::new(u, p))),
            (None, None) => None,
            _ => Some(Err(
                "esp_webhooks.postmark_username and postmark_password must both be set".into(),
            )),
        };
        let mailgun = set(&c.mailgun_signing_key).map(|k| Ok(Arc::new(MailgunVerifier::new(k))));
        for (p, err) in [
            (Provider::Ses, ses.as_ref().and_then(|r| r.as_ref().err())),
            (
                Provider::SendGrid,
                sendgrid.as_ref().and_then(|r| r.as_ref().err()),
            ),
            (
                Provider::Postmark,
                postmark.as_ref().and_then(|r| r.as_ref().err()),
            ),
        ] {
            if let Some(e) = err {
                tracing::error!(provider = %p, error = %e, "ESP webhook misconfigured; it answers 503");
            }
        }
        Hooks {
            api,
            ses,
            sendgrid,
            postmark,
            mailgun,
        }
    }

    fn now(&self) -> i64 {
        self.api.clock.now_ms()
    }

    fn max_age(&self) -> i64 {
        self.api.config.esp_webhooks.max_age_seconds
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
                    self.now(),
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

    /// The provider's verifier, or the answer for a missing / broken configuration.
    async fn verifier<'a, T>(
        &self,
        provider: Provider,
        slot: &'a Slot<T>,
    ) -> Result<&'a T, ApiError> {
        match slot {
            Some(Ok(v)) => Ok(v),
            Some(Err(m)) => Err(self.refuse(provider, EspError::Config(m.clone())).await),
            None => Err(self
                .refuse(provider, EspError::NotConfigured(provider))
                .await),
        }
    }

    async fn ingest(
        &self,
        provider: Provider,
        events: Vec<EspEvent>,
    ) -> Result<Json<WebhookAccepted>, ApiError> {
        let policy = engine::delivery::policy::RetryPolicy::from_config(&self.api.config.delivery);
        let got = engine::bounces::ingest_esp_events(
            &self.api.db,
            self.now(),
            engine::bounce::Classifier::shared(),
            &policy,
            &events,
            provider.as_str(),
        )
        .await?;
        for e in &events {
            tracing::debug!(
                provider = %provider,
                kind = e.kind.as_str(),
                recipient = %e.recipient.as_deref().map(engine::privacy::mask_email).unwrap_or_default(),
                "ESP event"
            );
        }
        tracing::info!(provider = %provider, events = events.len(), matched = got.matched, unmatched = got.unmatched, "ESP webhook applied");
        if !got.bounce_ids.is_empty() {
            // A late bounce may have scheduled a retry.
            self.api.wake.notify_one();
        }
        Ok(Json(WebhookAccepted {
            events: events.len(),
            matched: got.matched,
            unmatched: got.unmatched,
            bounce_ids: got.bounce_ids,
            subscription: None,
        }))
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn subscription(state: &str) -> Json<WebhookAccepted> {
    Json(WebhookAccepted {
        events: 0,
        matched: 0,
        unmatched: 0,
        bounce_ids: Vec::new(),
        subscription: Some(state.into()),
    })
}

/// The webhook routes (no API key; each provider's own authentication), bodies up to 1 MiB.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/v1/webhooks/ses", post(ses))
        .route("/api/v1/webhooks/sendgrid", post(sendgrid))
        .route("/api/v1/webhooks/postmark", post(postmark))
        .route("/api/v1/webhooks/mailgun", post(mailgun))
        .layer(DefaultBodyLimit::max(esp::MAX_BODY))
        .with_state(Hooks::new(state))
}

/// Amazon SES notifications through an SNS HTTPS subscription. The SNS signature is checked
/// with the certificate from `SigningCertURL` (an allowed host only) and the topic must be in
/// `esp_webhooks.sns_topic_arns`; a SubscriptionConfirmation is confirmed by fetching its
/// `SubscribeURL`.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/ses",
    request_body(content = String, content_type = "text/plain", description = "The SNS message (JSON) SNS posts"),
    responses(
        (status = 200, description = "Verified and applied, or the subscription confirmed", body = WebhookAccepted),
        (status = 400, description = "Not an SNS message / SES notification", body = ErrorBody),
        (status = 401, description = "Bad signature, untrusted certificate URL or unknown topic (counted)", body = ErrorBody),
        (status = 404, description = "SES webhooks are not configured", body = ErrorBody),
        (status = 413, description = "Over 1 MiB"),
        (status = 503, description = "The signing certificate cannot be fetched now", body = ErrorBody),
    ),
)]
pub async fn ses(State(h): State<Hooks>, body: Bytes) -> Result<Json<WebhookAccepted>, ApiError> {
    let p = Provider::Ses;
    let v = h.verifier(p, &h.ses).await?;
    let m = match v.verify(&body).await {
        Ok(m) => m,
        Err(e) => return Err(h.refuse(p, e).await),
    };
    match m.kind.as_str() {
        "SubscriptionConfirmation" => {
            if let Err(e) = v.confirm_subscription(&m).await {
                return Err(h.refuse(p, e).await);
            }
            tracing::info!(topic = %m.topic_arn, "SNS subscription confirmed");
            return Ok(subscription("confirmed"));
        }
        "UnsubscribeConfirmation" => {
            tracing::warn!(topic = %m.topic_arn, "SNS subscription removed");
            return Ok(subscription("unsubscribed"));
        }
        _ => {}
    }
    let events = match esp::ses::parse_notification(m.message.as_bytes()) {
        Ok(e) => e,
        Err(e) => return Err(h.refuse(p, e).await),
    };
    h.ingest(p, events).await
}

/// SendGrid Event Webhook (signed): the ECDSA signature over timestamp + body is checked with
/// `esp_webhooks.sendgrid_public_key`.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/sendgrid",
    params(
        ("X-Twilio-Email-Event-Webhook-Signature" = String, Header, description = "base64 DER ECDSA signature"),
        ("X-Twilio-Email-Event-Webhook-Timestamp" = String, Header, description = "Unix seconds"),
    ),
    request_body(content = String, content_type = "application/json", description = "A JSON array of SendGrid events"),
    responses(
        (status = 200, description = "Verified and applied", body = WebhookAccepted),
        (status = 400, description = "Not a SendGrid event batch", body = ErrorBody),
        (status = 401, description = "Missing or bad signature, or a stale timestamp (counted)", body = ErrorBody),
        (status = 404, description = "SendGrid webhooks are not configured", body = ErrorBody),
        (status = 413, description = "Over 1 MiB"),
    ),
)]
pub async fn sendgrid(
    State(h): State<Hooks>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAccepted>, ApiError> {
    let p = Provider::SendGrid;
    let v = h.verifier(p, &h.sendgrid).await?;
    if let Err(e) = v.verify(
        header(&headers, SIGNATURE_HEADER),
        header(&headers, TIMESTAMP_HEADER),
        &body,
        h.now(),
        h.max_age(),
    ) {
        return Err(h.refuse(p, e).await);
    }
    let events = match esp::sendgrid::parse_events(&body) {
        Ok(e) => e,
        Err(e) => return Err(h.refuse(p, e).await),
    };
    h.ingest(p, events).await
}

/// Postmark bounce, delivery and spam-complaint webhooks, authenticated with HTTP basic auth
/// (`esp_webhooks.postmark_username` / `postmark_password`, put into the webhook URL).
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/postmark",
    request_body(content = String, content_type = "application/json", description = "One Postmark webhook object"),
    responses(
        (status = 200, description = "Authenticated and applied", body = WebhookAccepted),
        (status = 400, description = "Not a Postmark webhook", body = ErrorBody),
        (status = 401, description = "Missing or wrong basic-auth credentials (counted)", body = ErrorBody),
        (status = 404, description = "Postmark webhooks are not configured", body = ErrorBody),
        (status = 413, description = "Over 1 MiB"),
    ),
)]
pub async fn postmark(
    State(h): State<Hooks>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAccepted>, ApiError> {
    let p = Provider::Postmark;
    let v = h.verifier(p, &h.postmark).await?;
    if let Err(e) = v.verify(header(&headers, header::AUTHORIZATION.as_str())) {
        return Err(h.refuse(p, e).await);
    }
    let events = match esp::postmark::parse_event(&body) {
        Ok(e) => e,
        Err(e) => return Err(h.refuse(p, e).await),
    };
    h.ingest(p, events).await
}

/// Mailgun webhooks (JSON): `signature` is checked with `esp_webhooks.mailgun_signing_key`,
/// must be fresh (`esp_webhooks.max_age_seconds`) and its token unused.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/mailgun",
    request_body(content = String, content_type = "application/json", description = "`{\"signature\": {...}, \"event-data\": {...}}`"),
    responses(
        (status = 200, description = "Verified and applied", body = WebhookAccepted),
        (status = 400, description = "Not a Mailgun webhook", body = ErrorBody),
        (status = 401, description = "Missing or bad signature, stale timestamp or reused token (counted)", body = ErrorBody),
        (status = 404, description = "Mailgun webhooks are not configured", body = ErrorBody),
        (status = 413, description = "Over 1 MiB"),
    ),
)]
pub async fn mailgun(
    State(h): State<Hooks>,
    body: Bytes,
) -> Result<Json<WebhookAccepted>, ApiError> {
    let p = Provider::Mailgun;
    let v = h.verifier(p, &h.mailgun).await?;
    let (signature, data) = match esp::mailgun::split_body(&body) {
        Ok(parts) => parts,
        Err(e) => return Err(h.refuse(p, e).await),
    };
    if let Err(e) = v.verify(signature.as_ref(), h.now(), h.max_age()) {
        return Err(h.refuse(p, e).await);
    }
    let events = match esp::mailgun::normalise(&data) {
        Ok(e) => e,
        Err(e) => return Err(h.refuse(p, e).await),
    };
    h.ingest(p, events).await
}
