//! Any bytes through the Postmark webhook normaliser + classifier, and the basic-auth check:
//! an error value is fine, a panic is a bug.
#![no_main]

use engine::bounce::Classifier;
use engine::bounce::esp::{auth, postmark};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(n) = postmark::normalise(data) {
        for e in &n.events {
            let _ = Classifier::shared().classify_esp(e);
        }
    }
    let header = String::from_utf8_lossy(data);
    if let Ok(a) = auth::BasicAuth::new(&["postmark:secret", "postmark:next"]) {
        let _ = a.verify(Some(&header));
    }
});
