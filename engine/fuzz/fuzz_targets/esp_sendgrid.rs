//! Any bytes through the SendGrid event-batch normaliser + classifier, and the signature
//! check over them: an error value is fine, a panic is a bug.
#![no_main]

use engine::bounce::Classifier;
use engine::bounce::esp::sendgrid;
use libfuzzer_sys::fuzz_target;

static VERIFIER: std::sync::OnceLock<Option<sendgrid::SendGridVerifier>> =
    std::sync::OnceLock::new();

fuzz_target!(|data: &[u8]| {
    if let Ok(events) = sendgrid::parse_events(data) {
        for e in &events {
            let _ = Classifier::shared().classify_esp(e);
        }
    }
    // The headers come from the network too: split the input into signature, timestamp, body.
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let (sig, ts, body) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
    if let Some(v) = VERIFIER.get_or_init(|| {
        let key = sendgrid::public_key_base64(&[7u8; 32]).ok()?;
        sendgrid::SendGridVerifier::new(&key).ok()
    }) {
        let _ = v.verify(sig, ts, body.as_bytes(), 1_800_000_000_000, 600);
    }
});
