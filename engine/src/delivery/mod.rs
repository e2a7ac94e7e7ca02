//! Receipt delivery: the state machine, the retry policy, sender pools, the
//! durable job queue, the SMTP sender and the worker that ties them.
//!
//! A send batch: `worker.rs` (the loops) → `send.rs` (claim, pace, send,
//! write in waves) → `plan.rs` (what each job does) → `smtp/` (the relay
//! conversation) → `outcome.rs` (SMTP result → transition) → `record.rs`
//! (one transaction per wave) with `attempts.rs` (the attempt rows).

pub mod attempts;
pub mod guard;
pub mod message;
pub mod outbox;
mod outcome;
pub mod pace;
mod plan;
pub mod policy;
pub mod pools;
pub mod queue;
mod record;
pub mod relay_url;
mod send;
pub mod senders;
pub mod smtp;
pub mod state;
pub mod worker;
