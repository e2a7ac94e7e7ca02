//! Any bytes through the Postmark webhook normaliser + classifier, and the basic-auth check:
//! an error value is fine, a panic is a bug.
#![no_main]

use engine::bounce::Classifier;
use engine::bounce::esp::postmark;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(events) = postmark::parse_event(data) {
        for e in &events {
            let _ = Classifier::shared().classify_esp(e);
        }
    }
    let header = String::from_utf8_lossy(data);
    let _ = postmark::PostmarkAuth::new("postmark", "secret").verify(Some(&header));
});
