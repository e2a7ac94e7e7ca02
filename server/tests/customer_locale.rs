//! The customer's language through the real HTTP server, on both databases:
//! `customer.locale` from the shop API (checked, stored), else the browser's
//! `Accept-Language` on the link page; the page, the PDF, the expired and
//! rate-limit pages and the receipt e-mail in that language, with CLDR money
//! (`Rp150.000` for rupiah in Indonesian) and dates.

mod support;

use engine::links;
use engine::orders::{AccountKind, Order, ValidOrder};
use serde_json::{Value, json};
use support::{TestServer, intake, order, servers, test_config};

const HOUR: i64 = 3_600_000;

/// Rp150.000 for one batik shirt, no tax or shipping.
fn rupiah_order(number: &str, locale: Option<&str>) -> ValidOrder {
    let mut o = order(number, "putu@example.com", AccountKind::Guest, None);
    o.currency = "IDR".into();
    o.items[0].name = "Kemeja batik".into();
    o.items[0].quantity = 1;
    o.items[0].unit_price = 15_000_000;
    o.totals.subtotal = 15_000_000;
    o.totals.shipping = 0;
    o.totals.total = 15_000_000;
    o.customer_locale = locale.map(Into::into);
    o
}

async fn link_for(srv: &TestServer, order: &Order) -> String {
    links::issue(
        &srv.state.db,
        srv.clock_now(),
        order,
        "agent",
        "test",
        72 * HOUR,
    )
    .await
    .expect("link")
    .token
}

/// GET with an `Accept-Language`: status and body, CLDR's no-break spaces
/// as plain ones and the views' `<!>` markers removed.
async fn get_in(srv: &TestServer, path: &str, accept_language: &str) -> (u16, Vec<u8>) {
    let res = srv
        .client()
        .get(format!("{}{path}", srv.base))
        .header("accept-language", accept_language)
        .send()
        .await
        .expect("get");
    let status = res.status().as_u16();
    (status, res.bytes().await.expect("body").to_vec())
}

fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .replace("<!>", "")
        .replace(['\u{a0}', '\u{202f}'], " ")
}

fn has(bytes: &[u8], needle: &[u8]) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_browser_language_decides_when_the_order_names_none() {
    for srv in servers(test_config()).await {
        let o = intake(&srv, rupiah_order("ID-1", None)).await;
        let token = link_for(&srv, &o).await;

        let (status, body) = get_in(&srv, &format!("/r/{token}"), "id-ID,id;q=0.9,en;q=0.8").await;
        let page = text(&body);
        assert_eq!(status, 200, "{}: {page}", srv.backend());
        assert!(page.contains("<html lang=\"id-ID\">"), "{page}");
        for indonesian in [
            "Struk untuk pesanan ID-1",
            "Tanggal",
            "Harga satuan",
            "Unduh PDF",
            "Tautan pribadi ini berlaku sampai",
            "Rp150.000",
            // 2026-11-27 21:00 UTC.
            "27 November 2026",
        ] {
            assert!(page.contains(indonesian), "missing {indonesian:?}: {page}");
        }
        for english in [
            "Receipt for order",
            "Download PDF",
            "Unit price",
            "works until",
        ] {
            assert!(!page.contains(english), "English {english:?} left: {page}");
        }
        assert!(!page.contains("<script") && !page.contains(".wasm"));

        let (status, pdf) = get_in(&srv, &format!("/r/{token}/receipt.pdf"), "id-ID").await;
        assert_eq!(status, 200);
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(
            has(&pdf, b"Struk Pembelian") && has(&pdf, b"HARGA SATUAN"),
            "PDF not Indonesian"
        );
        assert!(has(&pdf, b"Rp150.000") && !has(&pdf, b"Receipt"));

        let (_, body) = get_in(&srv, &format!("/r/{token}"), "en-US,en;q=0.9").await;
        let page = text(&body);
        assert!(page.contains("<html lang=\"en-US\">"), "{page}");
        assert!(page.contains("Receipt for order ID-1") && page.contains("Download PDF"));
        assert!(page.contains("IDR 150,000"), "{page}");
        assert!(!page.contains("Struk") && !page.contains("Unduh"));
        let (_, pdf) = get_in(&srv, &format!("/r/{token}/receipt.pdf"), "en-US").await;
        assert!(has(&pdf, b"Receipt") && !has(&pdf, b"Struk"));

        // The expired page speaks the browser's language too.
        srv.clock.advance_ms(73 * HOUR);
        let (status, body) = get_in(&srv, &format!("/r/{token}"), "id").await;
        let page = text(&body);
        assert_eq!(status, 404);
        assert!(page.contains("sudah kedaluwarsa") && page.contains("Kirimi saya tautan baru"));
        assert!(page.contains("<html lang=\"id\">") && !page.contains("<script"));
        let (status, body) = get_in(&srv, &format!("/r/{token}/receipt.pdf"), "id").await;
        assert_eq!(status, 404);
        assert!(text(&body).contains("tidak berlaku"));
        srv.stop().await;
    }
}

#[tokio::test]
async fn the_rate_limit_page_is_in_the_browser_language() {
    let mut config = test_config();
    config.links.per_token_per_minute = 1;
    for srv in servers(config.clone()).await {
        let o = intake(&srv, rupiah_order("RL-1", None)).await;
        let token = link_for(&srv, &o).await;
        let (first, _) = get_in(&srv, &format!("/r/{token}"), "id").await;
        let (status, body) = get_in(&srv, &format!("/r/{token}"), "id").await;
        assert_eq!((first, status), (200, 429));
        let page = text(&body);
        assert!(page.contains("Terlalu banyak permintaan"), "{page}");
        assert!(!page.contains("<script"));
        srv.stop().await;
    }
}

#[tokio::test]
async fn an_order_in_indonesian_is_indonesian_everywhere() {
    for srv in servers(test_config()).await {
        let key = engine::apikeys::create(&srv.state.db, srv.clock_now(), "shop", "test")
            .await
            .expect("key");
        let url = format!("{}/api/v1/orders", srv.base);
        let mut body = json!({
            "order_number": "LOC-1",
            "placed_at": "2026-11-27T21:00:00Z",
            "currency": "IDR",
            "items": [{ "name": "Kemeja batik", "quantity": 1, "unit_price": 15_000_000 }],
            "totals": { "subtotal": 15_000_000, "total": 15_000_000 },
            "customer": { "email": "putu@example.com", "name": "Putu", "account_kind": "guest",
                          "locale": "not a tag" }
        });
        let res = srv
            .client()
            .post(&url)
            .bearer_auth(&key.secret)
            .json(&body)
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 422);
        let refused: Value = res.json().await.expect("json");
        assert_eq!(
            refused["fields"][0]["field"], "customer.locale",
            "{refused}"
        );
        body["customer"]["locale"] = json!("id-id");
        let res = srv
            .client()
            .post(&url)
            .bearer_auth(&key.secret)
            .json(&body)
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 202);
        let o = engine::orders::find_by_number(&srv.state.db, "LOC-1")
            .await
            .expect("q")
            .expect("order");
        assert_eq!(
            o.customer_locale.as_deref(),
            Some("id-ID"),
            "stored canonical"
        );

        // The order's language wins over the browser's.
        let token = link_for(&srv, &o).await;
        let (_, page) = get_in(&srv, &format!("/r/{token}"), "en-US").await;
        let page = text(&page);
        assert!(
            page.contains("Struk untuk pesanan LOC-1") && page.contains("Rp150.000"),
            "{page}"
        );

        // The receipt e-mail, sent by a worker through the capturing pool.
        engine::delivery::pools::ensure_dev_pools(&srv.state.db, srv.clock_now())
            .await
            .expect("pools");
        let worker = engine::delivery::worker::Worker::new(
            srv.state.db.clone(),
            srv.state.clock.clone(),
            &srv.state.config,
        )
        .expect("worker");
        worker.run_once().await.expect("send");
        engine::periodic::Periodic::for_worker(&worker)
            .tick()
            .await
            .expect("periodic round");
        let sent = engine::delivery::outbox::list(&srv.state.db, None, 10)
            .await
            .expect("outbox");
        let mail = sent.first().expect("the receipt was sent");
        assert!(
            mail.subject.starts_with("Struk pesanan LOC-1"),
            "{}",
            mail.subject
        );
        let raw = engine::delivery::outbox::get(&srv.state.db, mail.id)
            .await
            .expect("q")
            .expect("captured");
        let parts = engine::delivery::outbox::parts(&raw.raw);
        let html = parts.html.unwrap_or_default().replace('\u{a0}', " ");
        let text_part = parts.text.unwrap_or_default().replace('\u{a0}', " ");
        for body in [&html, &text_part] {
            assert!(body.contains("Rp150.000"), "{body}");
            assert!(!body.contains("Customer") && !body.contains("Billed to"));
        }
        assert!(html.contains("Ditagihkan kepada"), "{html}");
        assert!(text_part.contains("Pelanggan:"), "{text_part}");
        assert!(html.contains("<html lang=\"id-ID\">"));
        assert!(text_part.contains("STRUK PEMBELIAN"), "{text_part}");
        srv.stop().await;
    }
}
