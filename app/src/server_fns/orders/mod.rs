mod get_order;
mod list_orders;

pub use get_order::*;
pub use list_orders::*;

#[cfg(feature = "ssr")]
pub(crate) fn to_row(o: &engine::orders::Order, mask: bool) -> crate::types::OrderRow {
    use engine::clock::format_utc;
    crate::types::OrderRow {
        id: o.id,
        order_number: o.order_number.clone(),
        placed_at: format_utc(o.placed_at),
        customer_email: if mask {
            engine::privacy::mask_email(&o.customer_email)
        } else {
            o.customer_email.clone()
        },
        account_kind: o.account_kind.clone(),
        total: engine::receipt::money::format_minor(o.total_minor, &o.currency)
            .unwrap_or_else(|_| o.total_minor.to_string()),
        state: o.state.clone(),
        state_detail: o.state_detail.clone(),
        attempts: o.attempts,
        updated_at: format_utc(o.updated_at),
    }
}
