//! WhatsApp test setup shared by the callback and held-queue tests: a
//! configuration with one English template, and an order that opted in (or
//! not) with a phone number.

use super::{TestServer, intake, order, test_config};
use engine::config::{Config, WhatsappConfig, WhatsappTemplate};
use engine::orders::{AccountKind, Order};

/// The Twilio auth token the callbacks are signed with.
pub const TOKEN: &str = "whatsapp-callback-token";
pub const PHONE: &str = "+6281234567890";

/// `provider` is `capture` or `twilio` (then sent to `base`).
pub fn whatsapp_config(provider: &str, base: &str) -> Config {
    Config {
        whatsapp: WhatsappConfig {
            provider: provider.into(),
            twilio_base_url: base.into(),
            twilio_account_sid: Some("AC1".into()),
            twilio_auth_token: Some(TOKEN.into()),
            from_number: Some("+14155238886".into()),
            templates: [(
                "en".to_string(),
                WhatsappTemplate {
                    content_sid: "HX0123456789abcdef0123456789abcdef".into(),
                    variables: vec!["order_number".into(), "link".into()],
                },
            )]
            .into(),
            ..WhatsappConfig::default()
        },
        ..test_config()
    }
}

/// A guest order with a phone number, taken in through intake.
pub async fn opted_in_order(srv: &TestServer, number: &str, opt_in: bool) -> Order {
    let mut o = order(
        number,
        &format!("{number}@example.com"),
        AccountKind::Guest,
        None,
    );
    o.customer_phone = Some(PHONE.into());
    o.whatsapp_opt_in = opt_in;
    intake(srv, o).await
}
