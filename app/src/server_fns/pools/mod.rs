mod list_pools;
mod set_pool_enabled;

pub use list_pools::*;
pub use set_pool_enabled::*;
