//! The held queue and what agents do from it: take a case, text a fresh
//! link, send it on WhatsApp, call, log the call, regenerate links, re-send
//! through a chosen pool, resolve, and the same on several orders at once. Every action is
//! audited with the agent's name. Agents only (admins too).

mod bulk_held;
mod case_view;
mod done;
mod email_link;
mod list_held;
mod list_resend_pools;
mod log_call;
mod regenerate_link;
mod resend_via_pool;
mod resolve_case;
mod send_sms_link;
mod send_whatsapp_link;
mod start_call;
mod take_case;

pub use bulk_held::*;
pub use case_view::*;
pub use done::*;
pub use email_link::*;
pub use list_held::*;
pub use list_resend_pools::*;
pub use log_call::*;
pub use regenerate_link::*;
pub use resend_via_pool::*;
pub use resolve_case::*;
pub use send_sms_link::*;
pub use send_whatsapp_link::*;
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
    crate::error::AppError,
> {
    use crate::error::AppError;
    use crate::ssr::{require_role, state};
    let st = state()?;
    let staff = require_role(&[engine::accounts::Role::Agent]).await?;
    let order = engine::orders::find_by_number(&st.db, number)
        .await?
        .ok_or_else(|| {
            AppError::new(
                http::StatusCode::NOT_FOUND,
                format!("There is no order {number}."),
            )
        })?;
    Ok((st, staff, order))
}

/// Why the order's address cannot take e-mail (suppressed, or the failure
/// that held it said the address is dead), or `None` when it can. The same
/// rule the fallback decides with (`engine::fallback::runner`).
#[cfg(feature = "ssr")]
pub(crate) async fn dead_address(
    st: &crate::ssr::AppState,
    now: engine::clock::Millis,
    order: &engine::orders::Order,
) -> Result<Option<String>, crate::error::AppError> {
    let suppressed = engine::suppression::active(&st.db, now, &order.customer_email).await?;
    Ok(match suppressed {
        Some(s) => Some(format!("the address is suppressed ({})", s.reason)),
        None if order.state_detail.contains("dead") => Some(order.state_detail.clone()),
        None => None,
    })
}

/// Refuses an email re-send to an order whose address is dead (suppressed):
/// the agent is told to text the link instead.
#[cfg(feature = "ssr")]
pub(crate) async fn refuse_dead_address(
    st: &crate::ssr::AppState,
    now: engine::clock::Millis,
    order: &engine::orders::Order,
) -> Result<(), crate::error::AppError> {
    match dead_address(st, now, order).await? {
        Some(_) => Err(crate::error::AppError::new(
            http::StatusCode::CONFLICT,
            "The email address on this order is dead: send the link by SMS instead.",
        )),
        None => Ok(()),
    }
}

/// Answers an action: for a plain form post (JavaScript off) also redirects
/// back to the page it came from with the notice in the query, so the page
/// shows what was done; with JavaScript the page shows the returned notice.
#[cfg(feature = "ssr")]
pub(crate) fn answer<E>(done: Done) -> Result<Done, E> {
    use leptos::prelude::use_context;
    let Some(parts) = use_context::<http::request::Parts>() else {
        return Ok(done);
    };
    let header = |name: http::header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let form_post = header(http::header::ACCEPT).is_some_and(|a| a.contains("text/html"));
    if !form_post {
        return Ok(done);
    }
    let host = header(http::header::HOST).unwrap_or_default();
    let back = header(http::header::REFERER)
        .and_then(|r| same_origin_path(&r, &host))
        .unwrap_or_else(|| "/held".to_string());
    leptos_axum::redirect(&format!(
        "{back}{}{}",
        if back.contains('?') { "&" } else { "?" },
        done.query()
    ));
    Ok(done)
}

/// The path and query of `referer` when it is on `host`, without an earlier
/// notice's `done`/`orders`/`failed`/`confirm` or a form error's parameters.
#[cfg(feature = "ssr")]
fn same_origin_path(referer: &str, host: &str) -> Option<String> {
    let rest = referer.split_once("://")?.1;
    let (authority, path) = rest.split_at(rest.find('/')?);
    if authority != host {
        return None;
    }
    let path = path.split('#').next().unwrap_or("/");
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| {
            let key = kv.split('=').next().unwrap_or("");
            !kv.is_empty()
                && !matches!(
                    key,
                    "done" | "orders" | "failed" | "confirm" | "__err" | "__path"
                )
        })
        .collect();
    Some(if kept.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", kept.join("&"))
    })
}

/// Where the agent's texts and calls go, and the links they carry.
#[cfg(feature = "ssr")]
pub(crate) fn phone_reach<'a>(
    st: &'a crate::ssr::AppState,
    provider: &'a engine::sms::SmsProvider,
    base_url: &'a str,
) -> engine::fallback::support::PhoneReach<'a> {
    engine::fallback::support::PhoneReach {
        provider,
        shop_name: &st.config.shop.name,
        base_url,
        link_ttl_ms: st.config.links.ttl_ms(),
        default_locale: st.config.shop.default_locale.as_deref(),
    }
}

/// Records an action that has already gone out (a text, a call, an e-mail
/// queued): the audit entry and the order's timeline event, in one
/// transaction (`engine::orders::agent_log`). Actions that are database work
/// only use the engine's `_by` operations, which write it with the change.
#[cfg(feature = "ssr")]
pub(crate) async fn audit(
    st: &crate::ssr::AppState,
    staff: &crate::ssr::Staff,
    action: &str,
    order: &engine::orders::Order,
    detail: &str,
) -> Result<(), crate::error::AppError> {
    engine::orders::agent_log::record(&st.db, st.now(), &staff.agent(), order, action, detail)
        .await?;
    Ok(())
}
