//! Any text as an SMTP reply / diagnostic code, parsed and classified.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let reply = engine::bounce::SmtpReply::parse(text);
        let _ = engine::bounce::Classifier::shared().classify(&reply, None);
        let _ = engine::delivery::policy::retry_hint_ms(text);
    }
});
