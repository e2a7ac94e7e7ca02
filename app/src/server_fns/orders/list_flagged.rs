use leptos::prelude::*;

use crate::error::AppError;
use crate::types::FlaggedPage;

pub const FLAGGED_PAGE_SIZE: i64 = 50;

/// Orders from VPN, datacenter and Tor networks, filtered and sorted, one
/// keyset page at a time. Agents and managers (managers see masked emails).
/// Empty filter values mean "any".
#[server(prefix = "/fn", endpoint = "orders/flagged")]
pub async fn list_flagged(
    network: Option<String>,
    state: Option<String>,
    provider: Option<String>,
    reached: Option<String>,
    min_score: Option<String>,
    sort: Option<String>,
    after: Option<String>,
) -> Result<FlaggedPage, AppError> {
    use crate::ssr::require_role;
    use engine::accounts::Role;
    use engine::orders::{FlaggedCursor, FlaggedFilter, FlaggedSort};
    use http::StatusCode;

    let st = crate::ssr::state()?;
    let staff = require_role(&[Role::Agent, Role::Manager]).await?;
    let mask = staff.user.role == Role::Manager;
    let given = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let bad = |what: &str| AppError::new(StatusCode::BAD_REQUEST, what.to_string());
    let filter = FlaggedFilter {
        network: given(network),
        state: given(state),
        provider: given(provider),
        reached: match given(reached).as_deref() {
            None => None,
            Some("yes") => Some(true),
            Some("no") => Some(false),
            Some(_) => return Err(bad("Reached must be yes, no or empty.")),
        },
        min_score: match given(min_score) {
            None => None,
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (0..=100).contains(&n) => Some(n),
                _ => return Err(bad("Minimum score must be a number from 0 to 100.")),
            },
        },
        sort: match given(sort).as_deref() {
            None => FlaggedSort::Newest,
            Some(s) => FlaggedSort::parse(s).ok_or_else(|| bad("Sort must be newest or risk."))?,
        },
    };
    let after = match given(after) {
        None => None,
        Some(c) => {
            Some(FlaggedCursor::parse(&c).ok_or_else(|| bad("That page link is not valid."))?)
        }
    };
    let (orders, next) =
        engine::orders::list_flagged(&st.db, &filter, after, FLAGGED_PAGE_SIZE).await?;
    Ok(FlaggedPage {
        rows: orders.iter().map(|o| super::to_row(o, mask)).collect(),
        next: next.map(|c| c.text()),
    })
}
