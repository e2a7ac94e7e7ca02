//! Staff roles: the type lives in the `shared` crate so that the browser
//! half of the app uses the very same one (stored as TEXT through sqlx, names
//! derived with strum).

pub use shared::Role;
