use leptos::prelude::*;

use crate::types::error_text;

/// Shows the outcome of the latest action: an error as an alert, a success
/// message as a polite status.
#[component]
pub fn ActionStatus<T: Clone + Send + Sync + 'static>(
    #[prop(into)] value: Signal<Option<Result<T, ServerFnError>>>,
    #[prop(into)] success: Signal<String>,
) -> impl IntoView {
    move || match value.get() {
        Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
        Some(Ok(_)) => view! { <p class="notice ok" role="status">{success.get()}</p> }.into_any(),
        None => ().into_any(),
    }
}

/// A failed server call, as a readable alert.
#[component]
pub fn ErrorNotice(error: ServerFnError) -> impl IntoView {
    view! { <p class="notice error" role="alert">{error_text(&error)}</p> }
}
