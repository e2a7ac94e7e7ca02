//! Receipt delivery: the state machine, the retry policy, sender pools, the
//! durable job queue, the SMTP transport and the worker that ties them.

pub mod guard;
pub mod message;
pub mod outbox;
pub mod pace;
pub mod policy;
pub mod pools;
pub mod queue;
pub mod state;
pub mod transport;
pub mod worker;
