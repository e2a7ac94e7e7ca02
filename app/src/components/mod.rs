pub mod badge;
pub mod layout;
pub mod orders_table;
pub mod status;
