//! A shop posting orders to `/api/v1/orders` with its own API key, as a
//! checkout would: the answer's status and its JSON body.

use serde_json::Value;

use super::TestServer;

pub struct ShopApi {
    http: reqwest::Client,
    url: String,
    key: String,
}

impl ShopApi {
    /// A fresh API key named `name` on `srv`'s database.
    pub async fn new(srv: &TestServer, name: &str) -> Self {
        let key = engine::apikeys::create(&srv.state.db, srv.clock_now(), name, "test")
            .await
            .expect("key");
        Self {
            http: reqwest::Client::new(),
            url: format!("{}/api/v1/orders", srv.base),
            key: key.secret,
        }
    }

    /// Posts `body` as it is (trailing data, broken JSON).
    pub async fn post_bytes(&self, body: Vec<u8>) -> (u16, Value) {
        let res = self
            .http
            .post(&self.url)
            .bearer_auth(&self.key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("post");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{status}: body is not JSON ({e}): {text}"));
        (status, body)
    }

    pub async fn post(&self, order: &Value) -> (u16, Value) {
        self.post_bytes(order.to_string().into_bytes()).await
    }
}
