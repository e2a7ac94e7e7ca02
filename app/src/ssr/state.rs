use engine::{Clock, Config, Db};
use leptos::prelude::use_context;
use std::sync::Arc;

use crate::error::AppError;

/// What every server function may reach; provided as Leptos context by the
/// server for each request.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    /// Network intelligence and the risk score (shared with the shop API).
    pub risk: Arc<engine::risk::Assessor>,
}

impl AppState {
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        AppError::new(
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "server state is missing",
        )
    })
}
