//! Any bytes through the DSN / bounce / ARF / auto-reply parser and the
//! classifier: an error value is fine, a panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = engine::bounce::parse_message(data);
    let _ = engine::bounce::Classifier::shared().classify_message(data);
});
