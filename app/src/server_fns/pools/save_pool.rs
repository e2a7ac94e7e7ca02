// The form's fields are the arguments; the macro's generated client fn has them all too.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

/// Adds a sender pool, or changes one (`pool_id` set). An empty relay URL on
/// a change keeps the stored relay and its credentials. Admins only.
#[server(prefix = "/fn", endpoint = "pools/save")]
pub async fn save_pool(
    pool_id: Option<i64>,
    name: String,
    role: String,
    from_name: String,
    from_address: String,
    relay_url: String,
    max_per_second: i64,
    position: i64,
) -> Result<(), ServerFnError> {
    use crate::ssr::{engine_error, fail, require_role, state};
    use engine::delivery::pools::{self, NewPool};
    let st = state()?;
    let admin = require_role(&[]).await?;
    if let Some(id) = pool_id {
        engine::pool_file::ensure_editable(&st.db, id)
            .await
            .map_err(engine_error)?;
    }
    let keep_relay = relay_url.trim().is_empty();
    if keep_relay && pool_id.is_none() {
        return Err(fail(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            "A new pool needs a relay URL (smtp://…, smtps://… or capture://).",
        ));
    }
    let fields = NewPool {
        name: &name,
        role: &role,
        from_name: &from_name,
        from_address: &from_address,
        relay_url: if keep_relay {
            "capture://"
        } else {
            relay_url.trim()
        },
        max_per_second,
        position,
    };
    let saved = match pool_id {
        Some(id) => pools::update(&st.db, id, fields, keep_relay).await,
        None => pools::create(&st.db, st.now(), fields).await,
    }
    .map_err(engine_error)?;
    let action = if pool_id.is_some() {
        "pool.update"
    } else {
        "pool.add"
    };
    // The relay URL may hold a password: the audit entry names the pool only.
    engine::audit::record(
        &st.db,
        st.now(),
        &admin.actor(),
        action,
        &saved.name,
        &format!("role {}", saved.role),
    )
    .await
    .map_err(engine_error)?;
    Ok(())
}
