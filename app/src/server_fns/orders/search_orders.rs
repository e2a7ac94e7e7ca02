use leptos::prelude::*;

use crate::error::AppError;
use crate::types::OrderRow;

/// Most orders a search shows.
pub const SEARCH_LIMIT: i64 = 100;

/// Support search: orders by exact email, phone number (E.164, spaces and
/// dashes ignored), order number or customer reference, newest first.
/// Agents and managers (managers see masked emails).
#[server(prefix = "/fn", endpoint = "orders/search")]
pub async fn search_orders(q: String) -> Result<Vec<OrderRow>, AppError> {
    use crate::ssr::{require_role, state};
    use engine::accounts::Role;
    use http::StatusCode;

    let st = state()?;
    let staff = require_role(&[Role::Agent, Role::Manager]).await?;
    let mask = staff.user.role == Role::Manager;
    let key = engine::orders::SearchKey::parse(&q).ok_or_else(|| {
        AppError::new(
            StatusCode::BAD_REQUEST,
            "Enter an order number, an email address, a phone number or a customer reference (at most 254 characters).",
        )
    })?;
    let orders = engine::orders::search(&st.db, &key, SEARCH_LIMIT).await?;
    Ok(orders.iter().map(|o| super::to_row(o, mask)).collect())
}
