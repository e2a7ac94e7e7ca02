//! Server functions, one per file, grouped by domain. Every one checks the
//! caller's role on the server before doing anything (see `ssr::require_role`).
//! URLs are stable (`/fn/<domain>/<name>`) so tests and scripts can call them.

pub mod apikeys;
pub mod audit;
pub mod auth;
pub mod bounces;
pub mod orders;
pub mod outbox;
pub mod pools;
pub mod receipts;
pub mod stats;
pub mod support;
pub mod suppressions;
pub mod users;
pub mod webhooks;
