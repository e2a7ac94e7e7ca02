//! Every page as a lazily loaded route. With `cargo leptos build --split` each
//! page's code is its own WASM chunk, fetched when the page is first shown, so
//! the first load carries the shared runtime and one page rather than all of
//! them (the 400 KB gzip bar). On the server the macro adds nothing:
//! pages render as before.

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use crate::components::layout::{AGENTS_AND_MANAGERS, Access, MANAGERS, StaffLayout};
use crate::pages;

/// `lazy_page!(Route => view)`: a unit struct `Route` whose lazily loaded view
/// is `view` (a staff page inside `StaffLayout`, the navigation frame).
macro_rules! lazy_page {
    ($route:ident => $view:expr) => {
        #[doc = concat!("The route `", stringify!($route), "`.")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(this: Self) -> AnyView {
                let _ = this;
                let page = $view.into_any();
                crate::mark_interactive();
                page
            }
        }
    };
}

lazy_page!(Login => view! { <pages::login::LoginPage/> });
lazy_page!(ReceiptLink => view! { <pages::receipt_link::ReceiptLinkView/> });
// The role checks: each staff page names who may open it (`Access`); any other
// role gets the refusal page with HTTP 403. The server functions behind each
// page check the role again on every call.
lazy_page!(Home => view! { <StaffLayout><pages::home::HomePage/></StaffLayout> });
lazy_page!(Users => view! { <StaffLayout access=Access::Admins><pages::users::UsersPage/></StaffLayout> });
lazy_page!(Audit => view! { <StaffLayout access=Access::Admins><pages::audit::AuditPage/></StaffLayout> });
lazy_page!(Outbox => view! { <StaffLayout access=Access::Admins><pages::outbox::OutboxPage/></StaffLayout> });
lazy_page!(AdminWebhooks => view! { <StaffLayout access=Access::Admins><pages::admin_webhooks::AdminWebhooksPage/></StaffLayout> });
lazy_page!(ApiKeys => view! { <StaffLayout access=Access::Admins><pages::api_keys::ApiKeysPage/></StaffLayout> });
lazy_page!(Rules => view! { <StaffLayout access=Access::Admins><pages::rules::RulesPage/></StaffLayout> });
lazy_page!(Suppressions => view! { <StaffLayout access=AGENTS_AND_MANAGERS><pages::suppressions::SuppressionsPage/></StaffLayout> });
lazy_page!(Pools => view! { <StaffLayout access=MANAGERS><pages::pools::PoolsPage/></StaffLayout> });
lazy_page!(Trends => view! { <StaffLayout access=MANAGERS><pages::trends::TrendsPage/></StaffLayout> });
// Managers read the held queue (no action buttons); agents work it.
lazy_page!(Held => view! { <StaffLayout access=AGENTS_AND_MANAGERS><pages::held::HeldPage/></StaffLayout> });
lazy_page!(Flagged => view! { <StaffLayout access=AGENTS_AND_MANAGERS><pages::flagged::FlaggedPage/></StaffLayout> });
lazy_page!(Search => view! { <StaffLayout access=AGENTS_AND_MANAGERS><pages::search::SearchPage/></StaffLayout> });
lazy_page!(Orders => view! { <StaffLayout access=AGENTS_AND_MANAGERS><pages::orders::OrdersPage/></StaffLayout> });
lazy_page!(Order => view! { <StaffLayout access=AGENTS_AND_MANAGERS><pages::order::OrderPage/></StaffLayout> });
