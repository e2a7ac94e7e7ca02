mod get_order;
mod list_flagged;
mod list_orders;
mod search_orders;
#[cfg(feature = "ssr")]
mod words;

pub use get_order::*;
pub use list_flagged::*;
pub use list_orders::*;
pub use search_orders::*;

#[cfg(feature = "ssr")]
pub(crate) fn to_row(o: &engine::orders::Order, mask: bool) -> crate::types::OrderRow {
    use engine::clock::format_utc;
    crate::types::OrderRow {
        id: o.id,
        order_number: o.order_number.clone(),
        placed_at: format_utc(o.placed_at),
        // Stored in A-labels (as sent); staff read IDN domains in Unicode.
        customer_email: if mask {
            engine::privacy::mask_email(&engine::orders::display_email(&o.customer_email))
        } else {
            engine::orders::display_email(&o.customer_email)
        },
        account_kind: o.account_kind.clone(),
        total: engine::receipt::money::format_minor(o.total_minor, &o.currency)
            .unwrap_or_else(|_| o.total_minor.to_string()),
        state: o.state.clone(),
        state_detail: o.state_detail.clone(),
        attempts: o.attempts,
        updated_at: format_utc(o.updated_at),
        network: o.network_kind.clone(),
        network_label: network_label(o),
        risk_score: o.risk_score,
        provider: engine::stats::charts::provider_label(engine::stats::provider_of(
            &o.customer_email,
        ))
        .to_string(),
        reached_via: o.reached_via.clone(),
    }
}

/// "VPN (Example VPN, AS64500)".
#[cfg(feature = "ssr")]
pub(crate) fn network_label(o: &engine::orders::Order) -> String {
    let kind = engine::risk::NetworkKind::parse(&o.network_kind)
        .unwrap_or(engine::risk::NetworkKind::Residential);
    let mut known: Vec<String> = o.network_name.iter().cloned().collect();
    if let Some(asn) = o.network_asn {
        known.push(format!("AS{asn}"));
    }
    if known.is_empty() {
        kind.label().to_string()
    } else {
        format!("{} ({})", kind.label(), known.join(", "))
    }
}
