//! Orders as shops post them: validation, storage with idempotency, the
//! timeline.

mod input;
mod repo;

pub use input::{
    AccountKind, BillingAddress, CustomerInput, FieldError, ItemInput, OrderInput, TotalsInput,
    ValidOrder,
};
pub use repo::{
    Intake, Order, OrderEvent, add_event, events, find_by_number, get, intake, list_recent,
};
