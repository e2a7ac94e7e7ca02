mod list_pools;
mod pool_health;
mod save_pool;
mod set_pool_enabled;

pub use list_pools::*;
pub use pool_health::*;
pub use save_pool::*;
pub use set_pool_enabled::*;
