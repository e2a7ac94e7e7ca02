//! Responses travel compressed when the client accepts it: pages and JSON
//! through the real router on a loopback port, brotli preferred, gzip when
//! that is all the client takes, nothing when it takes neither.

mod support;

use support::{TestServer, test_config};

async fn fetch(srv: &TestServer, path: &str, accept: Option<&str>) -> (Option<String>, usize) {
    let mut req = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{}{path}", srv.base));
    if let Some(a) = accept {
        req = req.header("accept-encoding", a);
    }
    let res = req.send().await.expect("response");
    assert!(res.status().is_success(), "{path}: {}", res.status());
    let encoding = res
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap_or_default().to_string());
    let vary = res
        .headers()
        .get("vary")
        .map(|v| v.to_str().unwrap_or_default().to_lowercase());
    if encoding.is_some() {
        assert!(
            vary.is_some_and(|v| v.contains("accept-encoding")),
            "{path}: Vary"
        );
    }
    (encoding, res.bytes().await.expect("body").len())
}

#[tokio::test]
async fn pages_and_json_are_compressed_when_accepted() {
    let db = engine::testing::TestDb::sqlite().await.expect("db");
    let srv = TestServer::start(db, test_config()).await;
    for path in ["/login", "/api/v1/openapi.json"] {
        let (plain_enc, plain) = fetch(&srv, path, None).await;
        assert_eq!(plain_enc, None, "{path}: no Accept-Encoding, no encoding");
        let (enc, br) = fetch(&srv, path, Some("gzip, deflate, br")).await;
        assert_eq!(enc.as_deref(), Some("br"), "{path}");
        let (enc, gz) = fetch(&srv, path, Some("gzip")).await;
        assert_eq!(enc.as_deref(), Some("gzip"), "{path}");
        assert!(
            br < plain / 2 && gz < plain / 2,
            "{path}: {plain} → br {br}, gzip {gz}"
        );
    }
    srv.stop().await;
}
