mod get_captured;
mod list_captured_sms;
mod list_outbox;

pub use get_captured::*;
pub use list_captured_sms::*;
pub use list_outbox::*;
