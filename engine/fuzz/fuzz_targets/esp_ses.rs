//! Any bytes through the SNS envelope parser, the canonical string SNS signs, and the SES
//! notification normaliser + classifier: an error value is fine, a panic is a bug.
#![no_main]

use engine::bounce::Classifier;
use engine::bounce::esp::ses;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = ses::parse_sns(data) {
        let _ = ses::string_to_sign(&m);
        if let Ok(n) = ses::parse_notification(m.message.as_bytes()) {
            for e in &n.events {
                let _ = Classifier::shared().classify_esp(e);
            }
        }
    }
    if let Ok(n) = ses::parse_notification(data) {
        for e in &n.events {
            let _ = Classifier::shared().classify_esp(e);
        }
    }
});
