//! The customer's receipt page behind a secure link (public: the token is the
//! credential; rate-limited per IP and per token).

mod open_receipt;

pub use open_receipt::*;
