//! The `rebound` binary's library half: start-up, HTTP wiring, CLI. Integration
//! tests drive the same functions the binary uses.

pub mod api;
pub mod bootstrap;
pub mod cli;
pub mod demo_live;
pub mod http;
pub mod inbound_smtp;
pub mod sessions;
pub mod telemetry;
