mod get_webhook_event;
mod list_esp_events;
mod list_webhook_events;

pub use get_webhook_event::*;
pub use list_esp_events::*;
pub use list_webhook_events::*;
