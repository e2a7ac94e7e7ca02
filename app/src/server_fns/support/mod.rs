//! The held queue and what agents do from it: take a case, text a fresh
//! link, call, log the call, regenerate links, re-send through a chosen
//! pool, resolve, and the same on several orders at once. Every action is
//! audited with the agent's name. Agents only (admins too).

mod bulk_held;
mod list_held;
mod list_resend_pools;
mod log_call;
mod regenerate_link;
mod resend_via_pool;
mod resolve_case;
mod send_sms_link;
mod start_call;
mod take_case;

pub use bulk_held::*;
pub use list_held::*;
pub use list_resend_pools::*;
pub use log_call::*;
pub use regenerate_link::*;
pub use resend_via_pool::*;
pub use resolve_case::*;
pub use send_sms_link::*;
pub use start_call::*;
pub use take_case::*;

#[cfg(feature = "ssr")]
pub(crate) async fn order_for_agent(
    number: &str,
) -> Result<
    (
        crate::ssr::AppState,
        crate::ssr::Staff,
        engine::orders::Order,
    ),
    leptos::prelude::ServerFnError,
> {
    use crate::ssr::{engine_error, fail, require_role, state};
    let st = state()?;
    let staff = require_role(&[engine::accounts::Role::Agent]).await?;
    let order = engine::orders::find_by_number(&st.db, number)
        .await
        .map_err(engine_error)?
        .ok_or_else(|| {
            fail(
                http::StatusCode::NOT_FOUND,
                format!("There is no order {number}."),
            )
        })?;
    Ok((st, staff, order))
}

/// Refuses an email re-send to an order whose address is suppressed (dead):
/// the agent is told to text the link instead.
#[cfg(feature = "ssr")]
pub(crate) async fn refuse_dead_address(
    st: &crate::ssr::AppState,
    now: engine::clock::Millis,
    order: &engine::orders::Order,
) -> Result<(), leptos::prelude::ServerFnError> {
    use crate::ssr::{engine_error, fail};
    let dead = engine::suppression::active(&st.db, now, &order.customer_email)
        .await
        .map_err(engine_error)?;
    match dead {
        Some(_) => Err(fail(
            http::StatusCode::CONFLICT,
            "The email address on this order is dead: send the link by SMS instead.",
        )),
        None => Ok(()),
    }
}

#[cfg(feature = "ssr")]
pub(crate) async fn audit(
    st: &crate::ssr::AppState,
    staff: &crate::ssr::Staff,
    action: &str,
    order: &engine::orders::Order,
    detail: &str,
) -> Result<(), leptos::prelude::ServerFnError> {
    engine::audit::record(
        &st.db,
        st.now(),
        &staff.actor(),
        action,
        &order.order_number,
        detail,
    )
    .await
    .map_err(crate::ssr::engine_error)?;
    engine::orders::add_event(
        &st.db,
        order.id,
        st.now(),
        "agent",
        &format!("{}: {action} {detail}", staff.user.email),
    )
    .await
    .map_err(crate::ssr::engine_error)
}
