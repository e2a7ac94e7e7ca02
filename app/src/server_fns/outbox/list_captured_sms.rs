use leptos::prelude::*;

use crate::error::AppError;
use crate::types::CapturedSmsRow;

/// SMS and calls the development capture provider kept (nothing was sent),
/// newest first, with full numbers. Admins only.
#[server(prefix = "/fn", endpoint = "outbox/sms")]
pub async fn list_captured_sms() -> Result<Vec<CapturedSmsRow>, AppError> {
    use crate::ssr::{require_admin, state};
    use std::collections::HashMap;

    let st = state()?;
    require_admin().await?;
    let rows = engine::sms::list_captured(&st.db, 100).await?;
    let mut numbers: HashMap<i64, Option<String>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let order_number = match r.order_id {
            Some(id) => match numbers.get(&id) {
                Some(known) => known.clone(),
                None => {
                    let number = engine::orders::get(&st.db, id)
                        .await?
                        .map(|o| o.order_number);
                    numbers.insert(id, number.clone());
                    number
                }
            },
            None => None,
        };
        out.push(CapturedSmsRow {
            id: r.id,
            created_at: engine::clock::format_utc(r.created_at),
            kind: r.kind,
            to: r.to_phone,
            body: r.body,
            order_number,
            requested_by: r.requested_by,
        });
    }
    Ok(out)
}
