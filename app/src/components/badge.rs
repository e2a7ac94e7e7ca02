use leptos::prelude::*;

/// A receipt's delivery state as a labelled badge (text, not colour alone).
#[component]
pub fn StateBadge(#[prop(into)] state: String) -> impl IntoView {
    let label = match state.as_str() {
        "queued" => "Queued",
        "sending" => "Sending",
        "retry_scheduled" => "Retry scheduled",
        "accepted" => "Accepted",
        "held" => "Held",
        other => other,
    }
    .to_string();
    view! { <span class=format!("badge state-{state}")>{label}</span> }
}
