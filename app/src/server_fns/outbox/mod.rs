mod get_captured;
mod list_outbox;

pub use get_captured::*;
pub use list_outbox::*;
