use leptos::prelude::*;
use leptos_router::components::A;

use crate::server_fns::auth::{Logout, current_user};
use crate::types::{Role, SessionUser};

/// Who may open a staff page (admins open every page). The page routes
/// (`routes.rs`) and the navigation read the same values, so a link is shown
/// exactly to the roles its page lets in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Every signed-in role.
    Everyone,
    /// These roles, and admins.
    Roles(&'static [Role]),
    /// Admins only.
    Admins,
}

impl Access {
    pub fn allows(self, role: Role) -> bool {
        role == Role::Admin
            || match self {
                Access::Everyone => true,
                Access::Roles(roles) => roles.contains(&role),
                Access::Admins => false,
            }
    }

    /// Who the page is for, in words ("support agents and managers").
    pub fn who(self) -> &'static str {
        match self {
            Access::Everyone => "everyone signed in",
            Access::Roles([Role::Agent, Role::Manager]) => "support agents, managers and admins",
            Access::Roles([Role::Manager]) => "managers and admins",
            Access::Roles([Role::Agent]) => "support agents and admins",
            Access::Roles(_) | Access::Admins => "admins",
        }
    }
}

pub const AGENTS_AND_MANAGERS: Access = Access::Roles(&[Role::Agent, Role::Manager]);
pub const MANAGERS: Access = Access::Roles(&[Role::Manager]);

/// A navigation group: its name and its (label, href, access) links.
type NavGroup = (
    &'static str,
    &'static [(&'static str, &'static str, Access)],
);

/// The navigation, grouped by job.
const NAV: &[NavGroup] = &[
    (
        "Work",
        &[
            ("Held queue", "/held", AGENTS_AND_MANAGERS),
            ("Orders", "/orders", AGENTS_AND_MANAGERS),
            ("Search", "/search", AGENTS_AND_MANAGERS),
            ("VPN-flagged", "/flagged", AGENTS_AND_MANAGERS),
        ],
    ),
    (
        "Insight",
        &[
            ("Overview", "/", Access::Everyone),
            ("Trends", "/trends", MANAGERS),
        ],
    ),
    (
        "Delivery",
        &[
            ("Sender pools", "/pools", MANAGERS),
            ("Suppressions", "/suppressions", AGENTS_AND_MANAGERS),
            ("Bounce rules", "/admin/rules", Access::Admins),
            ("Outbox", "/admin/outbox", Access::Admins),
            ("Shop webhooks", "/admin/webhooks", Access::Admins),
        ],
    ),
    (
        "Admin",
        &[
            ("API keys", "/admin/api-keys", Access::Admins),
            ("Users", "/admin/users", Access::Admins),
            ("Audit log", "/admin/audit", Access::Admins),
        ],
    ),
];

/// The pages `role` may open, by group, in navigation order.
pub fn pages_for(role: Role) -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    NAV.iter()
        .map(|(group, links)| {
            let open = links
                .iter()
                .filter(|(_, _, access)| access.allows(role))
                .map(|(label, href, _)| (*label, *href))
                .collect::<Vec<_>>();
            (*group, open)
        })
        .filter(|(_, links)| !links.is_empty())
        .collect()
}

/// The frame around every staff page: brand, navigation for the user's role,
/// sign-out, and the page itself in `<main>` when the user's role may open it
/// (`access`); otherwise the refusal page (HTTP 403) with what the role can
/// open instead.
#[component]
pub fn StaffLayout(
    #[prop(default = Access::Everyone)] access: Access,
    children: Children,
) -> impl IntoView {
    let user = crate::resource::resource(|| (), |_| current_user());
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/">"Rebound"</a>
            // A `Suspend` itself, not a closure returning one: under Suspense the
            // server walks a closure once per pass (registering, then rendering),
            // so a closure would build the page and its resources more than once.
            <Suspense fallback=|| ()>
                {Suspend::new(async move {
                    match user.await {
                        Ok(Some(u)) => view! { <Nav user=u/> }.into_any(),
                        // No staff member could be read here (the fallback for an
                        // unknown address is rendered outside the session): the
                        // main pages, which ask to sign in when needed.
                        _ => view! {
                            <nav aria-label="Main" class="nav">
                                <ul aria-label="Pages">
                                    <li><a href="/">"Overview"</a></li>
                                    <li><a href="/held">"Held queue"</a></li>
                                    <li><a href="/orders">"Orders"</a></li>
                                    <li><a href="/search">"Search"</a></li>
                                    <li><a class="signin" href="/login">"Sign in"</a></li>
                                </ul>
                            </nav>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </header>
        <main id="main" class="content" tabindex="-1">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {Suspend::new(async move {
                    match user.await {
                        Ok(Some(u)) if access.allows(u.role) => children().into_any(),
                        // Pages for everyone (the 404) need no staff member.
                        _ if access == Access::Everyone => children().into_any(),
                        Ok(Some(u)) => view! {
                            <crate::pages::forbidden::Forbidden role=u.role access/>
                        }
                        .into_any(),
                        _ => view! {
                            <h1>"Please sign in"</h1>
                            <p><a href="/login">"Sign in to Rebound"</a></p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn Nav(user: SessionUser) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let groups = pages_for(user.role);
    // Wide screens show the menu open (CSS does it without JavaScript; with
    // JavaScript the `open` state follows, so assistive technology agrees).
    #[cfg(feature = "hydrate")]
    {
        Effect::new(move |_| {
            let wide = window()
                .inner_width()
                .ok()
                .and_then(|w| w.as_f64())
                .is_some_and(|w| w >= 1024.0);
            if wide && let Some(menu) = document().get_element_by_id("nav-menu") {
                let _ = menu.set_attribute("open", "");
            }
        });
    }
    view! {
        <details class="nav-menu" id="nav-menu">
            <summary>"Menu"</summary>
            <nav aria-label="Main" class="nav">
                {groups.into_iter().map(|(group, links)| {
                    let id = format!("nav-{}", group.to_ascii_lowercase());
                    view! {
                        <div class="nav-group">
                            <span class="nav-heading" id=id.clone()>{group}</span>
                            <ul aria-labelledby=id>
                                {links.into_iter().map(|(label, href)| view! {
                                    <li><A href=href exact={href == "/"}>{label}</A></li>
                                }).collect_view()}
                            </ul>
                        </div>
                    }
                }).collect_view()}
            </nav>
        </details>
        <div class="whoami">
            <span class="who">{user.display_name.clone()}" · "{user.role.label()}</span>
            <ActionForm action=logout attr:class="inline">
                <button type="submit" class="link">"Sign out"</button>
            </ActionForm>
        </div>
    }
}
