use leptos::prelude::*;

use crate::error::AppError;
use crate::types::OrdersPage;

pub const ORDERS_PAGE_SIZE: i64 = 50;

/// Recent orders, newest first. Agents and managers (managers see masked emails).
#[server(prefix = "/fn", endpoint = "orders/list")]
pub async fn list_orders(before: Option<i64>) -> Result<OrdersPage, AppError> {
    use crate::ssr::{require_role, state};
    use engine::accounts::Role;

    let st = state()?;
    let staff = require_role(&[Role::Agent, Role::Manager]).await?;
    let mask = staff.user.role == Role::Manager;
    let orders = engine::orders::list_recent(&st.db, before, ORDERS_PAGE_SIZE).await?;
    let next_before = (orders.len() as i64 == ORDERS_PAGE_SIZE)
        .then(|| orders.last().map(|o| o.id))
        .flatten();
    Ok(OrdersPage {
        rows: orders.iter().map(|o| super::to_row(o, mask)).collect(),
        next_before,
    })
}
