mod current_user;
mod login;
mod logout;

pub use current_user::*;
pub use login::*;
pub use logout::*;
