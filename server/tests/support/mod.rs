//! Starts the real HTTP server (the same router `rebound serve` builds) on a
//! loopback port, on a fresh database of each backend.
#![allow(dead_code)]

pub mod cli;
pub mod serve;
pub mod shop_api;
pub mod whatsapp;

use app::ssr::AppState;
use engine::accounts::{NewUser, Role, create_user};
use engine::config::Config;
use engine::testing::TestDb;
use engine::{Clock, ManualClock};
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery staple";
pub const T0: i64 = 1_800_000_000_000;

pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub clock: ManualClock,
    pub db: Option<TestDb>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start(db: TestDb, config: Config) -> Self {
        let clock = ManualClock::new(T0);
        let risk = Arc::new(engine::risk::Assessor::new(&config.risk).expect("risk sources"));
        let state = AppState {
            db: db.db.clone(),
            config: Arc::new(config),
            clock: Arc::new(clock.clone()) as Arc<dyn Clock>,
            risk,
        };
        let options = leptos::config::get_configuration(None)
            .expect("leptos options")
            .leptos_options;
        let router =
            server::http::router(state.clone(), options, Arc::new(tokio::sync::Notify::new()))
                .await
                .expect("router");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server::http::serve(listener, router, async move {
            let _ = rx.await;
        }));
        Self {
            base,
            state,
            clock,
            db: Some(db),
            shutdown: Some(tx),
        }
    }

    pub fn clock_now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn backend(&self) -> &'static str {
        self.state.db.backend_name()
    }

    pub async fn add_user(&self, email: &str, role: Role) -> i64 {
        create_user(
            &self.state.db,
            self.clock.now_ms(),
            NewUser {
                email: email.into(),
                display_name: email.into(),
                role,
                password: PASSWORD.into(),
            },
        )
        .await
        .expect("create user")
        .id
    }

    /// A client with its own cookie jar that does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// Calls a server function the way the hydrated app does (not a form post).
    pub async fn call(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, String) {
        let res = client
            .post(format!("{}{}", self.base, path))
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.text().await.unwrap_or_default())
    }

    pub async fn login(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> (u16, String) {
        self.call(
            client,
            "/fn/auth/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(db) = self.db.take() {
            db.cleanup().await;
        }
    }
}

/// One server per available backend (SQLite always, PostgreSQL when reachable).
pub async fn servers(config: Config) -> Vec<TestServer> {
    let mut out = Vec::new();
    for db in engine::testing::all_backends().await {
        out.push(TestServer::start(db, config.clone()).await);
    }
    out
}

pub fn test_config() -> Config {
    Config {
        demo: engine::config::DemoConfig {
            create_admin: false,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A small valid order (a name with markup in it, to check escaping).
pub fn order(
    number: &str,
    email: &str,
    kind: engine::orders::AccountKind,
    customer_ref: Option<&str>,
) -> engine::orders::ValidOrder {
    engine::orders::OrderInput {
        order_number: number.into(),
        placed_at: "2026-11-27T21:00:00Z".into(),
        currency: "USD".into(),
        items: vec![engine::orders::ItemInput {
            name: "Lamp <b>brass</b>".into(),
            quantity: 2,
            unit_price: 1999,
        }],
        totals: engine::orders::TotalsInput {
            subtotal: 3998,
            tax: 0,
            shipping: 500,
            discount: 0,
            total: 4498,
        },
        customer: engine::orders::CustomerInput {
            email: email.into(),
            name: "Sam Customer".into(),
            phone: None,
            account_kind: kind,
            customer_ref: customer_ref.map(Into::into),
            whatsapp_opt_in: false,
            locale: None,
        },
        client_ip: None,
        billing_address: None,
    }
    .validate()
    .expect("valid order")
}

/// Opens the critical support case a held order gets when its masked re-send
/// failed too (the held queue's usual row).
pub async fn open_critical_case(srv: &TestServer, order_id: i64) {
    engine::fallback::support::open(
        &srv.state.db,
        srv.clock_now(),
        order_id,
        engine::fallback::decide::PRIORITY_CRITICAL,
        "the masked re-send also failed",
        &srv.state.config.fallback,
    )
    .await
    .expect("open a case");
}

/// Stores `o` as the shop API would.
pub async fn intake(srv: &TestServer, o: engine::orders::ValidOrder) -> engine::orders::Order {
    engine::orders::intake(&srv.state.db, srv.clock_now(), o, None)
        .await
        .expect("intake")
        .order()
        .clone()
}
