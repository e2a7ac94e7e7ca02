//! Orders as shops post them: validation, storage with idempotency, the
//! timeline.

mod flagged;
mod input;
mod repo;

pub use flagged::{FlaggedCursor, FlaggedFilter, FlaggedSort, list_flagged};
pub use input::{
    AccountKind, BillingAddress, CustomerInput, FieldError, ItemInput, OrderInput, TotalsInput,
    ValidOrder,
};
pub use repo::{
    Intake, Order, OrderEvent, SearchKey, add_event, events, find_by_number, get, intake,
    intake_assessed, list_recent, search,
};
