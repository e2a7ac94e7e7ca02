mod add_suppression;
mod list_suppressions;
mod release_suppression;

pub use add_suppression::*;
pub use list_suppressions::*;
pub use release_suppression::*;
