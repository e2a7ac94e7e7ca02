//! Any bytes through every provider's normaliser (the registry's table) + classifier, and
//! through the header-based verifiers: an error value is fine, a panic is a bug.
#![no_main]

use engine::bounce::Classifier;
use engine::bounce::esp::{Provider, auth, mailersend, mandrill, registry, resend};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for p in Provider::ALL {
        if let Ok(n) = registry::normaliser(p)(data) {
            for e in &n.events {
                let _ = Classifier::shared().classify_esp(e);
            }
        }
    }
    // The headers come from the network too: split the input into header values and a body.
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let (a, b, c, body) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next().unwrap_or(""),
    );
    if let Ok(basic) = auth::BasicAuth::new(&["user:secret", "user:next"]) {
        let _ = basic.verify(a);
    }
    if let Ok(svix) = resend::SvixVerifier::new("whsec_c2VjcmV0") {
        let _ = svix.verify(a, b, c, body.as_bytes(), 1_800_000_000_000, 300);
    }
    let _ = mailersend::MailerSendVerifier::new("secret").verify(a, body.as_bytes());
    if let Ok(m) =
        mandrill::MandrillVerifier::new("key", "https://rebound.example/api/v1/webhooks/mandrill")
    {
        let _ = m.verify(a, body.as_bytes());
    }
});
