//! Amazon SES notifications delivered through Amazon SNS.
//!
//! SNS posts a JSON envelope (`Type` = `Notification`, `SubscriptionConfirmation` or
//! `UnsubscribeConfirmation`) signed with RSA (PKCS#1 v1.5; `SignatureVersion` 1 = SHA-1,
//! 2 = SHA-256) over a canonical string of some of its fields. The signing certificate is
//! fetched from `SigningCertURL`, which must be `https://` on a host matching the configured
//! pattern (SNS's own hosts, `sns.<region>.amazonaws.com`); certificates are cached by URL.
//! `TopicArn` must be one of ours. The SES notification is the envelope's `Message` (a JSON
//! text): identity notifications (`notificationType`) and configuration-set events
//! (`eventType`) are both understood.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use reqwest::Url;
use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use x509_cert::der::{DecodePem, Encode};

use super::{EspError, Rejection, parse_json};

pub use super::ses_events::parse_notification;

/// The largest certificate fetched (bytes).
const MAX_CERT: usize = 64 * 1024;
/// Certificates kept; the cache is emptied when it would grow beyond this.
const MAX_CACHED_CERTS: usize = 32;

/// An SNS message (the HTTP body SNS posts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsMessage {
    /// `Notification`, `SubscriptionConfirmation` or `UnsubscribeConfirmation`.
    #[serde(rename = "Type")]
    pub kind: String,
    pub message_id: String,
    pub topic_arn: String,
    #[serde(default)]
    pub subject: Option<String>,
    /// For notifications, the SES notification (JSON text).
    pub message: String,
    pub timestamp: String,
    pub signature_version: String,
    pub signature: String,
    #[serde(rename = "SigningCertURL")]
    pub signing_cert_url: String,
    #[serde(rename = "SubscribeURL", default)]
    pub subscribe_url: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(rename = "UnsubscribeURL", default)]
    pub unsubscribe_url: Option<String>,
}

/// Parses the SNS envelope (no verification).
pub fn parse_sns(body: &[u8]) -> Result<SnsMessage, EspError> {
    let v = parse_json(body)?;
    serde_json::from_value(v).map_err(|e| EspError::malformed(format!("not an SNS message: {e}")))
}

/// The canonical text SNS signs (see "Verifying the signatures of Amazon SNS messages").
pub fn string_to_sign(m: &SnsMessage) -> Result<String, EspError> {
    let mut out = String::with_capacity(m.message.len() + 512);
    let mut add = |k: &str, v: &str| {
        out.push_str(k);
        out.push('\n');
        out.push_str(v);
        out.push('\n');
    };
    match m.kind.as_str() {
        "Notification" => {
            add("Message", &m.message);
            add("MessageId", &m.message_id);
            if let Some(s) = &m.subject {
                add("Subject", s);
            }
            add("Timestamp", &m.timestamp);
            add("TopicArn", &m.topic_arn);
            add("Type", &m.kind);
        }
        "SubscriptionConfirmation" | "UnsubscribeConfirmation" => {
            let (Some(url), Some(token)) = (&m.subscribe_url, &m.token) else {
                return Err(EspError::malformed(format!(
                    "{} without SubscribeURL or Token",
                    m.kind
                )));
            };
            add("Message", &m.message);
            add("MessageId", &m.message_id);
            add("SubscribeURL", url);
            add("Timestamp", &m.timestamp);
            add("Token", token);
            add("TopicArn", &m.topic_arn);
            add("Type", &m.kind);
        }
        other => {
            return Err(EspError::malformed(format!(
                "unknown SNS message type {:?}",
                super::super::reply::truncate(other, 64)
            )));
        }
    }
    Ok(out)
}

/// The RSA public key of a PEM certificate.
pub fn public_key_from_cert_pem(pem: &[u8]) -> Result<RsaPublicKey, EspError> {
    let bad = |e: String| EspError::unauthorized(Rejection::UntrustedCertificate, e);
    let cert = x509_cert::Certificate::from_pem(pem)
        .map_err(|e| bad(format!("the signing certificate does not parse: {e}")))?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| bad(format!("the certificate's key does not encode: {e}")))?;
    RsaPublicKey::from_public_key_der(&spki)
        .map_err(|e| bad(format!("the certificate has no RSA key: {e}")))
}

/// Checks `m`'s signature with `key`.
pub fn verify_signature(m: &SnsMessage, key: &RsaPublicKey) -> Result<(), EspError> {
    let text = string_to_sign(m)?;
    let bad = |why: &str| EspError::unauthorized(Rejection::BadSignature, why);
    let raw = B64
        .decode(m.signature.trim())
        .map_err(|_| bad("the signature is not base64"))?;
    let sig = rsa::pkcs1v15::Signature::try_from(raw.as_slice())
        .map_err(|_| bad("the signature is malformed"))?;
    let ok = match m.signature_version.trim() {
        "1" => rsa::pkcs1v15::VerifyingKey::<sha1::Sha1>::new(key.clone())
            .verify(text.as_bytes(), &sig)
            .is_ok(),
        "2" => rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.clone())
            .verify(text.as_bytes(), &sig)
            .is_ok(),
        _ => return Err(bad("unsupported SignatureVersion")),
    };
    if ok {
        Ok(())
    } else {
        Err(bad("the signature does not match"))
    }
}

/// What the SES endpoint accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnsSettings {
    /// Topic ARNs accepted; empty: the endpoint is off.
    pub topic_arns: Vec<String>,
    /// Regex the certificate / subscribe URL host must match.
    pub host_pattern: String,
    /// Allow `http://` URLs (tests only).
    pub allow_http: bool,
}

/// Verifies SNS messages and confirms subscriptions. Build once and share: it caches
/// certificates.
#[derive(Debug)]
pub struct SnsVerifier {
    topic_arns: Vec<String>,
    host: regex::Regex,
    allow_http: bool,
    client: reqwest::Client,
    certs: Mutex<HashMap<String, RsaPublicKey>>,
}

impl SnsVerifier {
    /// A verifier for `settings`.
    pub fn new(settings: &SnsSettings) -> Result<SnsVerifier, EspError> {
        let host = regex::Regex::new(&settings.host_pattern)
            .map_err(|e| EspError::Config(format!("sns_host_pattern: {e}")))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| EspError::Config(format!("HTTP client: {e}")))?;
        Ok(SnsVerifier {
            topic_arns: settings.topic_arns.clone(),
            host,
            allow_http: settings.allow_http,
            client,
            certs: Mutex::new(HashMap::new()),
        })
    }

    /// True when at least one topic is accepted.
    pub fn is_configured(&self) -> bool {
        !self.topic_arns.is_empty()
    }

    /// `url` if it is https (or http when allowed) on an allowed host.
    fn allowed_url(&self, url: &str, what: &str) -> Result<Url, EspError> {
        let bad = |why: String| EspError::unauthorized(Rejection::UntrustedCertificate, why);
        let u = Url::parse(url).map_err(|_| bad(format!("the {what} is not a URL")))?;
        let scheme_ok = u.scheme() == "https" || (self.allow_http && u.scheme() == "http");
        if !scheme_ok {
            return Err(bad(format!("the {what} is not https")));
        }
        if !u.username().is_empty() || u.password().is_some() {
            return Err(bad(format!("the {what} carries credentials")));
        }
        match u.host_str() {
            Some(h) if self.host.is_match(h) => Ok(u),
            _ => Err(bad(format!("the {what} is not on an allowed SNS host"))),
        }
    }

    /// GETs `url`, reading at most `cap` bytes.
    async fn get(&self, url: Url, cap: usize, what: &str) -> Result<Vec<u8>, EspError> {
        let unavailable = |e: reqwest::Error| {
            EspError::Unavailable(format!("cannot fetch the {what}: {}", e.without_url()))
        };
        let mut resp = self.client.get(url).send().await.map_err(unavailable)?;
        let status = resp.status();
        if status.is_server_error() {
            return Err(EspError::Unavailable(format!(
                "cannot fetch the {what}: HTTP {status}"
            )));
        }
        if !status.is_success() {
            return Err(EspError::unauthorized(
                Rejection::UntrustedCertificate,
                format!("the {what} answered HTTP {status}"),
            ));
        }
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(unavailable)? {
            if out.len() + chunk.len() > cap {
                return Err(EspError::unauthorized(
                    Rejection::UntrustedCertificate,
                    format!("the {what} is over {cap} bytes"),
                ));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    async fn key_for(&self, cert_url: &str) -> Result<RsaPublicKey, EspError> {
        if let Ok(cache) = self.certs.lock()
            && let Some(k) = cache.get(cert_url)
        {
            return Ok(k.clone());
        }
        let url = self.allowed_url(cert_url, "SigningCertURL")?;
        let pem = self.get(url, MAX_CERT, "signing certificate").await?;
        let key = public_key_from_cert_pem(&pem)?;
        if let Ok(mut cache) = self.certs.lock() {
            if cache.len() >= MAX_CACHED_CERTS {
                cache.clear();
            }
            cache.insert(cert_url.to_string(), key.clone());
        }
        Ok(key)
    }

    /// Parses and authenticates an SNS request body: the topic is ours, the certificate comes
    /// from an allowed host, the signature matches.
    pub async fn verify(&self, body: &[u8]) -> Result<SnsMessage, EspError> {
        let m = parse_sns(body)?;
        if !self.topic_arns.iter().any(|t| t == &m.topic_arn) {
            return Err(EspError::unauthorized(
                Rejection::UnknownTopic,
                "the TopicArn is not configured",
            ));
        }
        // Refuse a bad URL before any network traffic.
        self.allowed_url(&m.signing_cert_url, "SigningCertURL")?;
        string_to_sign(&m)?;
        let key = self.key_for(&m.signing_cert_url).await?;
        verify_signature(&m, &key)?;
        Ok(m)
    }

    /// Confirms a verified `SubscriptionConfirmation` by GETting its `SubscribeURL` (which must
    /// be on an allowed host too).
    pub async fn confirm_subscription(&self, m: &SnsMessage) -> Result<(), EspError> {
        let Some(url) = m.subscribe_url.as_deref() else {
            return Err(EspError::malformed("no SubscribeURL"));
        };
        let url = self.allowed_url(url, "SubscribeURL")?;
        self.get(url, MAX_CERT, "SubscribeURL").await?;
        Ok(())
    }
}

/// Signs an SNS envelope (a JSON object with every field but `Signature`) with a PKCS#8 PEM
/// RSA key, the way SNS does, and sets `Signature`. For tests and for simulating SNS against
/// a running Rebound; SNS's own key is never needed.
pub fn sign_envelope(envelope: &mut Value, private_key_pem: &str) -> Result<(), EspError> {
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(private_key_pem)
        .map_err(|e| EspError::Config(format!("not a PKCS#8 RSA key: {e}")))?;
    if let Some(obj) = envelope.as_object_mut() {
        obj.insert("Signature".into(), Value::String(String::new()));
    }
    let m: SnsMessage = serde_json::from_value(envelope.clone())
        .map_err(|e| EspError::malformed(format!("not an SNS message: {e}")))?;
    let text = string_to_sign(&m)?;
    let sig = match m.signature_version.as_str() {
        "1" => rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(key)
            .sign(text.as_bytes())
            .to_vec(),
        _ => rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key)
            .sign(text.as_bytes())
            .to_vec(),
    };
    if let Some(obj) = envelope.as_object_mut() {
        obj.insert("Signature".into(), Value::String(B64.encode(sig)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) const KEY: &str = include_str!("fixtures/sns-test-key.pem");
    pub(crate) const CERT: &str = include_str!("fixtures/sns-test-cert.pem");
    const OTHER_KEY: &str = include_str!("fixtures/sns-other-key.pem");
    const BOUNCE: &str = include_str!("fixtures/ses_bounce.json");
    const DELIVERY: &str = include_str!("fixtures/ses_delivery.json");
    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:rebound-bounces";

    fn envelope(message: &str, cert_url: &str, version: &str) -> Value {
        json!({
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": TOPIC,
            "Subject": "Amazon SES Email Event Notification",
            "Message": message,
            "Timestamp": "2026-11-27T21:05:00.000Z",
            "SignatureVersion": version,
            "SigningCertURL": cert_url,
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x"
        })
    }

    fn signed(message: &str, cert_url: &str, version: &str, key: &str) -> Vec<u8> {
        let mut env = envelope(message, cert_url, version);
        sign_envelope(&mut env, key).expect("sign");
        serde_json::to_vec(&env).expect("json")
    }

    fn key() -> RsaPublicKey {
        public_key_from_cert_pem(CERT.as_bytes()).expect("test certificate")
    }

    #[test]
    fn signatures_v1_and_v2_verify_and_tampering_is_refused() {
        for version in ["1", "2"] {
            let body = signed(
                BOUNCE,
                "https://sns.us-east-1.amazonaws.com/c.pem",
                version,
                KEY,
            );
            let m = parse_sns(&body).expect("parse");
            verify_signature(&m, &key()).expect("good signature");

            let mut tampered = m.clone();
            tampered.message = tampered.message.replace("jane@", "john@");
            assert!(matches!(
                verify_signature(&tampered, &key()),
                Err(EspError::Unauthorized(Rejection::BadSignature, _))
            ));
            let mut other_version = m.clone();
            other_version.signature_version = if version == "1" { "2" } else { "1" }.into();
            assert!(verify_signature(&other_version, &key()).is_err());

            let wrong =
                parse_sns(&signed(BOUNCE, "https://x/c.pem", version, OTHER_KEY)).expect("parse");
            assert!(
                verify_signature(&wrong, &key()).is_err(),
                "signed by another key"
            );
        }
        let mut m = parse_sns(&signed(BOUNCE, "https://x/c.pem", "1", KEY)).expect("parse");
        m.signature = "%%%".into();
        assert!(verify_signature(&m, &key()).is_err());
        m.signature_version = "3".into();
        assert!(verify_signature(&m, &key()).is_err());
    }

    #[test]
    fn the_canonical_string_follows_the_aws_order() {
        let m = parse_sns(&signed("hi", "https://x/c.pem", "1", KEY)).expect("parse");
        let s = string_to_sign(&m).expect("text");
        assert_eq!(
            s,
            format!(
                "Message\nhi\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubject\nAmazon SES Email Event Notification\n\
                 Timestamp\n2026-11-27T21:05:00.000Z\nTopicArn\n{TOPIC}\nType\nNotification\n"
            )
        );
        let conf: SnsMessage = serde_json::from_value(json!({
            "Type": "SubscriptionConfirmation", "MessageId": "m", "Token": "tok", "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe", "SubscribeURL": "https://sns/confirm",
            "Timestamp": "t", "SignatureVersion": "1", "Signature": "", "SigningCertURL": "https://c"
        }))
        .expect("conf");
        assert_eq!(
            string_to_sign(&conf).expect("text"),
            format!(
                "Message\nYou have chosen to subscribe\nMessageId\nm\nSubscribeURL\nhttps://sns/confirm\nTimestamp\nt\n\
                 Token\ntok\nTopicArn\n{TOPIC}\nType\nSubscriptionConfirmation\n"
            )
        );
    }

    /// A one-request-at-a-time HTTP server on loopback answering every GET with `body`;
    /// returns its base URL and a counter of requests served.
    async fn serve(body: &'static str) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = vec![0u8; 4096];
                let _ = s.read(&mut buf).await;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
                let _ = s.shutdown().await;
            }
        });
        (format!("http://{addr}"), hits)
    }

    fn verifier(allow_http: bool) -> SnsVerifier {
        SnsVerifier::new(&SnsSettings {
            topic_arns: vec![TOPIC.into()],
            host_pattern: r"^127\.0\.0\.1$".into(),
            allow_http,
        })
        .expect("verifier")
    }

    #[tokio::test]
    async fn the_verifier_fetches_and_caches_the_certificate_and_checks_host_and_topic() {
        let (base, hits) = serve(CERT).await;
        let url = format!("{base}/SimpleNotificationService-test.pem");
        let v = verifier(true);
        let body = signed(BOUNCE, &url, "1", KEY);
        let m = v.verify(&body).await.expect("verified");
        assert_eq!(m.topic_arn, TOPIC);
        v.verify(&signed(DELIVERY, &url, "2", KEY))
            .await
            .expect("verified");
        assert_eq!(
            hits.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "cached by URL"
        );

        // Tampered body, other key, other topic, disallowed host or scheme.
        let tampered = String::from_utf8(body.clone())
            .expect("utf8")
            .replace("jane@", "john@");
        assert!(matches!(
            v.verify(tampered.as_bytes()).await,
            Err(EspError::Unauthorized(Rejection::BadSignature, _))
        ));
        assert!(matches!(
            v.verify(&signed(BOUNCE, &url, "1", OTHER_KEY)).await,
            Err(EspError::Unauthorized(Rejection::BadSignature, _))
        ));
        let mut env = envelope(BOUNCE, &url, "1");
        env["TopicArn"] = json!("arn:aws:sns:us-east-1:999999999999:theirs");
        sign_envelope(&mut env, KEY).expect("sign");
        assert!(matches!(
            v.verify(&serde_json::to_vec(&env).expect("json")).await,
            Err(EspError::Unauthorized(Rejection::UnknownTopic, _))
        ));
        let evil = signed(BOUNCE, "http://evil.example/c.pem", "1", KEY);
        assert!(matches!(
            v.verify(&evil).await,
            Err(EspError::Unauthorized(Rejection::UntrustedCertificate, _))
        ));
        assert!(matches!(
            verifier(false).verify(&body).await,
            Err(EspError::Unauthorized(Rejection::UntrustedCertificate, _))
        ));
        assert!(matches!(
            v.verify(b"{not json").await,
            Err(EspError::Malformed(_))
        ));
        assert!(matches!(
            v.verify(b"{\"Type\":\"Notification\"}").await,
            Err(EspError::Malformed(_))
        ));
    }

    #[tokio::test]
    async fn a_subscription_is_confirmed_by_getting_the_subscribe_url() {
        let (base, hits) = serve(CERT).await;
        let v = verifier(true);
        let mut env = json!({
            "Type": "SubscriptionConfirmation", "MessageId": "m1", "Token": "2336412f37fb687f5d51e6e2425",
            "TopicArn": TOPIC, "Message": "You have chosen to subscribe to the topic.",
            "SubscribeURL": format!("{base}/?Action=ConfirmSubscription&Token=2336412f37fb687f5d51e6e2425"),
            "Timestamp": "2026-11-27T21:00:00.000Z", "SignatureVersion": "1",
            "SigningCertURL": format!("{base}/cert.pem")
        });
        sign_envelope(&mut env, KEY).expect("sign");
        let m = v
            .verify(&serde_json::to_vec(&env).expect("json"))
            .await
            .expect("verified");
        v.confirm_subscription(&m).await.expect("confirmed");
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2);
        let mut elsewhere = m.clone();
        elsewhere.subscribe_url = Some("https://evil.example/?Action=ConfirmSubscription".into());
        assert!(v.confirm_subscription(&elsewhere).await.is_err());
    }
}
