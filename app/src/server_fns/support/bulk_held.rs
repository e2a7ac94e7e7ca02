use leptos::prelude::*;

use crate::error::AppError;

use super::Done;

/// The most orders one bulk action takes.
pub const MAX_BULK: usize = 100;

/// One action on several held orders at once: `take` ("I'm on it"),
/// `email` (a fresh link by e-mail each; earlier links keep working) or
/// `resolve` (with one note for all). Revoking links is never done in bulk:
/// it needs the confirmation on each order's page.
/// Each order goes through the same checks and audit entry as its row action;
/// one that fails is reported and the rest still go. Agents.
#[server(prefix = "/fn", endpoint = "support/bulk")]
pub async fn bulk_held(
    action: String,
    #[server(default)] order_numbers: Vec<String>,
    #[server(default)] note: String,
) -> Result<Done, AppError> {
    use crate::ssr::require_role;
    require_role(&[engine::accounts::Role::Agent]).await?;
    // Each order once, in the order ticked (`dedup` alone drops only
    // neighbouring repeats).
    let mut seen = std::collections::HashSet::new();
    let numbers: Vec<String> = order_numbers
        .into_iter()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty() && seen.insert(n.clone()))
        .collect();
    if numbers.is_empty() {
        return Err(AppError::new(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            "Select at least one order first.",
        ));
    }
    if numbers.len() > MAX_BULK {
        return Err(AppError::new(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            format!("Select at most {MAX_BULK} orders at a time."),
        ));
    }
    let what = match action.as_str() {
        "take" => "bulk_take",
        "email" => "bulk_email",
        "resolve" if note.trim().is_empty() => {
            return Err(AppError::new(
                http::StatusCode::UNPROCESSABLE_ENTITY,
                "Write a note to resolve the selected orders with.",
            ));
        }
        "resolve" => "bulk_resolve",
        _ => {
            return Err(AppError::new(
                http::StatusCode::UNPROCESSABLE_ENTITY,
                "Choose what to do with the selected orders.",
            ));
        }
    };
    let mut out = Done {
        what: what.to_string(),
        ..Default::default()
    };
    let real_response = use_context::<leptos_axum::ResponseOptions>();
    provide_context(leptos_axum::ResponseOptions::default());
    for n in numbers {
        let result = match action.as_str() {
            "take" => super::take_case(n.clone()).await,
            "email" => super::email_link(n.clone()).await,
            _ => super::resolve_case(n.clone(), note.clone()).await,
        };
        match result {
            Ok(_) => out.done.push(n),
            Err(e) => out.failed.push((n, e.message)),
        }
    }
    // The per-order actions answer on a response of their own: one order's
    // 404 or 409 must not become the status of the bulk answer, which
    // succeeded and lists that order's failure in its body.
    if let Some(real) = real_response {
        provide_context(real);
    }
    super::answer(out)
}
