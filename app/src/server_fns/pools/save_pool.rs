// The form's fields are the arguments; the macro's generated client fn has them all too.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::error::AppError;

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
) -> Result<(), AppError> {
    use crate::ssr::{require_admin, state};
    use engine::delivery::pools::{self, NewPool};
    let st = state()?;
    let admin = require_admin().await?;
    if let Some(id) = pool_id {
        engine::pool_file::ensure_editable(&st.db, id).await?;
    }
    let keep_relay = relay_url.trim().is_empty();
    if keep_relay && pool_id.is_none() {
        return Err(AppError::new(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            "A new pool needs a relay URL (smtp://…, smtps://… or capture://).",
        ));
    }
    let role: pools::PoolRole = role.trim().parse().map_err(|_| {
        AppError::new(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            "The role must be primary, backup or masked.",
        )
    })?;
    let fields = NewPool {
        name: &name,
        role,
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
    // Audited with the change; the entry names the pool, never its relay URL
    // (it may hold a password).
    match pool_id {
        Some(id) => {
            pools::update_by(&st.db, st.now(), &admin.actor(), id, fields, keep_relay).await
        }
        None => pools::create_by(&st.db, st.now(), &admin.actor(), fields).await,
    }?;
    Ok(())
}
