mod list_pools;
mod save_pool;
mod set_pool_enabled;

pub use list_pools::*;
pub use save_pool::*;
pub use set_pool_enabled::*;
