//! Any bytes as the body of `POST /api/v1/orders`: deserialise and validate.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = serde_json::from_slice::<engine::orders::OrderInput>(data) {
        let _ = input.validate();
    }
});
