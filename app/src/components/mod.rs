pub mod badge;
pub mod layout;
pub mod status;
