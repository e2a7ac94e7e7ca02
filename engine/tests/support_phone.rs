//! An agent's call promises a text with a secure link; the text goes right
//! after the call starts, with a link that opens the receipt, and earlier
//! links keep working. On both databases, with the capture provider (every
//! call and text stored, nothing leaves the machine).

use engine::fallback::support::{self, PhoneReach};
use engine::links::{self, Lookup};
use engine::orders;
use engine::sms::SmsProvider;
use engine::testing::all_backends;
use engine::testing::fixtures;

const T0: i64 = 1_800_000_000_000;

fn order(number: &str, phone: Option<&str>) -> orders::ValidOrder {
    let mut input = fixtures::order_input(
        number,
        &format!("{}@example.com", number.to_ascii_lowercase()),
    );
    input.customer.phone = phone.map(Into::into);
    input.validate().expect("valid order")
}

fn token_in(body: &str) -> String {
    let start = body.find("/r/").expect("a link in the text") + 3;
    body[start..start + 43].to_string()
}

#[tokio::test]
async fn a_call_is_followed_by_the_text_it_promises() {
    for t in all_backends().await {
        let db = t.db.clone();
        orders::intake(&db, T0, order("CALL-1", Some("+6281234567890")), None)
            .await
            .expect("intake");
        let o = orders::find_by_number(&db, "CALL-1")
            .await
            .expect("q")
            .expect("order");
        let earlier = links::issue(&db, T0, &o, "masked_email", "fallback", 3_600_000)
            .await
            .expect("earlier link");
        let provider = SmsProvider::Capture;
        let reach = PhoneReach {
            provider: &provider,
            shop_name: "Toko Batik",
            base_url: "https://receipts.example.com/",
            link_ttl_ms: 3_600_000,
            default_locale: None,
        };
        let (call, text) = support::call_and_text(&db, T0 + 1000, &o, &reach, "sara@shop.test")
            .await
            .expect("call and text");
        assert_eq!(call.kind, "call");
        assert!(
            call.body.contains("sending you a text message"),
            "{}",
            call.body
        );
        assert_eq!(text.kind, "sms");
        assert_eq!(text.to_phone, "+6281234567890");
        assert!(text.id > call.id, "the text follows the call");
        assert!(
            text.body.starts_with(
                "Toko Batik: your receipt for order CALL-1: https://receipts.example.com/r/"
            ),
            "{}",
            text.body
        );
        match links::lookup(&db, T0 + 2000, &token_in(&text.body))
            .await
            .expect("lookup")
        {
            Lookup::Valid { order, .. } => assert_eq!(order.order_number, "CALL-1"),
            other => panic!("the texted link must open the receipt: {other:?}"),
        }
        match links::lookup(&db, T0 + 2000, &earlier.token)
            .await
            .expect("lookup")
        {
            Lookup::Valid { .. } => {}
            other => panic!("texting must not revoke the earlier link: {other:?}"),
        }
        let stored = engine::sms::for_order(&db, o.id).await.expect("messages");
        let kinds: Vec<&str> = stored.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(kinds, ["call", "sms"]);

        // No phone: nothing is called or texted, and the agent is told why.
        orders::intake(&db, T0, order("CALL-2", None), None)
            .await
            .expect("intake");
        let o2 = orders::find_by_number(&db, "CALL-2")
            .await
            .expect("q")
            .expect("order");
        let err = support::call_and_text(&db, T0, &o2, &reach, "sara@shop.test")
            .await
            .expect_err("no phone");
        assert!(err.to_string().contains("no phone number"), "{err}");
        assert!(
            engine::sms::for_order(&db, o2.id)
                .await
                .expect("q")
                .is_empty()
        );
        t.cleanup().await;
    }
}
