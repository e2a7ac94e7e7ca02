use leptos::prelude::*;

use crate::error::AppError;

/// Shows the outcome of the latest action: an error as an alert, a success
/// message as a polite status.
#[component]
pub fn ActionStatus<T, E>(
    #[prop(into)] value: Signal<Option<Result<T, E>>>,
    #[prop(into)] success: Signal<String>,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    E: Clone + Into<AppError> + Send + Sync + 'static,
{
    move || match value.get() {
        Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
        Some(Ok(_)) => view! { <p class="notice ok" role="status">{success.get()}</p> }.into_any(),
        None => ().into_any(),
    }
}

/// A failed server call, as a readable alert.
#[component]
pub fn ErrorNotice(#[prop(into)] error: AppError) -> impl IntoView {
    view! { <p class="notice error" role="alert">{error.message}</p> }
}
