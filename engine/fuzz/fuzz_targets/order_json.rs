//! Any bytes as the body of `POST /api/v1/orders`: deserialise as the
//! handler does (one JSON document: `from_slice` refuses data after it, as
//! the handler's `Deserializer::end` does) and validate; any text as a
//! customer address.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = serde_json::from_slice::<engine::orders::OrderInput>(data) {
        let _ = input.validate();
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(address) = engine::orders::parse_mailbox(text)
    {
        // What is accepted is stable: normalising it again changes nothing.
        assert_eq!(engine::orders::parse_mailbox(&address), Ok(address.clone()));
        let _ = engine::orders::display_email(&address);
    }
});
