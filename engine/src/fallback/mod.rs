//! Fallbacks: when email has failed (retries exhausted, a dead address, a
//! suppressed address), the receipt still reaches the customer.
//!
//! - `decide.rs`: the decision as a pure function of the order's facts (the
//!   README's fallback table), with the reasons in words.
//! - `runner.rs`: finds held orders without a decision, claims each one (safe
//!   across processes) and carries the decision out.
//! - `notifications.rs`: account notifications for logged-in customers.
//! - `support.rs`: the support queue (critical cases with an SLA clock).
//! - `masked.rs`: the masked re-send, a `masked_link` job run by the delivery
//!   worker, so it shares the worker's pools, leases and crash safety.
//! - `whatsapp.rs`: the WhatsApp link (sent by `sms::whatsapp`), and the
//!   critical case when it fails.

pub mod decide;
mod masked;
pub mod notifications;
pub mod runner;
pub mod support;
pub mod whatsapp;

pub use decide::{Decision, Facts, decide};
pub use runner::{run_due, sweep_email_reach};
