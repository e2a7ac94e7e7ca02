//! Any bytes through the Mailgun body split, signature check and event normaliser +
//! classifier: an error value is fine, a panic is a bug.
#![no_main]

use engine::bounce::Classifier;
use engine::bounce::esp::mailgun;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((signature, event)) = mailgun::split_body(data) {
        let v = mailgun::MailgunVerifier::new("key");
        let _ = v.verify(signature.as_ref(), 1_800_000_000_000, 600);
        if let Ok(n) = mailgun::normalise(&event) {
            for e in &n.events {
                let _ = Classifier::shared().classify_esp(e);
            }
        }
    }
});
