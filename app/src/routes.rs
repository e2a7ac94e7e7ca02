//! Every page as a lazily loaded route. With `cargo leptos build --split` each
//! page's code is its own WASM chunk, fetched when the page is first shown, so
//! the first load carries the shared runtime and one page rather than all of
//! them (the 400 KB gzip bar). On the server the macro adds nothing:
//! pages render as before.

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use crate::components::layout::StaffLayout;
use crate::pages;

/// `lazy_page!(Route, Page)` for a page of its own; `lazy_page!(staff Route,
/// Page)` for a staff page, inside the navigation frame.
macro_rules! lazy_page {
    ($route:ident, $page:path) => {
        #[doc = concat!("The route that shows `", stringify!($page), "`.")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(this: Self) -> AnyView {
                let _ = this;
                let page = view! { <$page/> }.into_any();
                crate::mark_interactive();
                page
            }
        }
    };
    (staff $route:ident, $page:path) => {
        #[doc = concat!("The route that shows `", stringify!($page), "` in the staff frame.")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(this: Self) -> AnyView {
                let _ = this;
                let page = view! { <StaffLayout><$page/></StaffLayout> }.into_any();
                crate::mark_interactive();
                page
            }
        }
    };
}

lazy_page!(Login, pages::login::LoginPage);
lazy_page!(ReceiptLink, pages::receipt_link::ReceiptLinkView);
lazy_page!(staff Home, pages::home::HomePage);
lazy_page!(staff Users, pages::users::UsersPage);
lazy_page!(staff Audit, pages::audit::AuditPage);
lazy_page!(staff Outbox, pages::outbox::OutboxPage);
lazy_page!(staff AdminWebhooks, pages::admin_webhooks::AdminWebhooksPage);
lazy_page!(staff ApiKeys, pages::api_keys::ApiKeysPage);
lazy_page!(staff Rules, pages::rules::RulesPage);
lazy_page!(staff Suppressions, pages::suppressions::SuppressionsPage);
lazy_page!(staff Pools, pages::pools::PoolsPage);
lazy_page!(staff Trends, pages::trends::TrendsPage);
lazy_page!(staff Held, pages::held::HeldPage);
lazy_page!(staff Flagged, pages::flagged::FlaggedPage);
lazy_page!(staff Search, pages::search::SearchPage);
lazy_page!(staff Orders, pages::orders::OrdersPage);
lazy_page!(staff Order, pages::order::OrderPage);
