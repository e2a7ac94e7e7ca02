use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::server_fns::auth::Login;

/// Staff sign-in. Works without JavaScript (a plain form post).
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = move || login.value().get().and_then(|r| r.err()).map(|e| e.message);
    view! {
        <Title text="Sign in · Rebound"/>
        <main id="main" class="login-page">
            <section class="card login-card" aria-labelledby="login-title">
                <h1 id="login-title">"Sign in to Rebound"</h1>
                <p class="muted">"For support agents, managers and admins."</p>
                {move || error().map(|e| view! { <p class="notice error" role="alert">{e}</p> })}
                <ActionForm action=login>
                    <input type="hidden" name="next" value=next/>
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="username" required/>
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required/>
                    <button type="submit" class="primary" disabled=move || login.pending().get()>
                        {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </section>
        </main>
    }
}
