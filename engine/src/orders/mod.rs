//! Orders as shops post them: validation, storage with idempotency (written
//! by the group-committing `IntakeWriter` for the shop API), the timeline.

mod address;
pub mod agent_log;
mod flagged;
mod input;
mod intake_writer;
mod repo;

pub use address::{
    AddressProblem, display_email, needs_smtputf8, parse_mailbox, parse_mailbox_for,
};
pub use flagged::{FlaggedCursor, FlaggedFilter, FlaggedSort, list_flagged};
pub use input::{
    AccountKind, BillingAddress, CustomerInput, FieldError, ItemInput, OrderInput, TotalsInput,
    ValidOrder,
};
pub use intake_writer::IntakeWriter;
pub use repo::{
    Intake, Order, OrderEvent, PreparedOrder, SearchKey, add_event, events, find_by_number, get,
    get_many, insert_prepared, intake, intake_assessed, list_recent, prepare_intake, search,
};
