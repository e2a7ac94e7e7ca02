//! Rebound's domain: everything that is not UI.
//!
//! `server` and `app` (ssr) call into this crate; it depends on neither.

pub mod accounts;
pub mod apikeys;
pub mod audit;
pub mod bounce;
pub mod bounces;
pub mod clock;
pub mod config;
pub mod db;
pub mod delivery;
pub mod demo;
pub mod erasure;
pub mod error;
pub mod fallback;
pub mod i18n;
pub mod links;
pub mod metrics;
pub mod money;
pub mod orders;
pub mod periodic;
pub mod pool_file;
pub mod privacy;
pub mod provider;
pub mod ratelimit;
pub mod reach;
pub mod receipt;
pub mod retention;
pub mod risk;
pub mod secrets;
pub mod shop_webhooks;
pub mod sms;
pub mod soft_bounces;
pub mod stats;
pub mod suppression;
/// Test databases and loopback servers, for the engine's and the server's
/// tests only (`cfg(test)`, or the `testing` feature their dev-dependencies enable).
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;
pub use db::Db;
pub use error::{Error, Result};
