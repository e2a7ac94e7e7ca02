//! The `rebound` binary's library half: start-up, HTTP wiring, CLI. Integration
//! tests drive the same functions the binary uses.

pub mod api;
pub mod bootstrap;
pub mod cli;
pub mod demo_live;
pub mod http;
pub mod inbound_smtp;
pub mod pool_cli;
pub mod sessions;
pub mod telemetry;

/// mimalloc for every binary built on this library (`rebound`, its tests and
/// benches alike): the send path allocates a lot across tokio's and sqlx's
/// threads, where glibc's malloc showed about 8 % of the dispatch bench's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
