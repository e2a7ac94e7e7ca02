//! Storing orders, idempotently, together with their first send job.

use serde::{Deserialize, Serialize};

use super::input::{AccountKind, ItemInput, ValidOrder};
use crate::clock::Millis;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::{exec_on_pool, on_pool};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Order {
    pub id: i64,
    pub order_number: String,
    pub idempotency_key: Option<String>,
    pub placed_at: Millis,
    pub currency: String,
    pub subtotal_minor: i64,
    pub tax_minor: i64,
    pub shipping_minor: i64,
    pub discount_minor: i64,
    pub total_minor: i64,
    pub items_json: String,
    pub customer_email: String,
    pub customer_name: String,
    pub customer_phone: Option<String>,
    pub account_kind: String,
    pub customer_ref: Option<String>,
    pub client_ip: Option<String>,
    pub billing_json: Option<String>,
    /// See `delivery::state::ReceiptState`.
    pub state: String,
    pub state_detail: String,
    pub attempts: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// When the customer first had the receipt, by any channel (see `reach`).
    pub reached_at: Option<Millis>,
    pub reached_via: Option<String>,
    /// When the fallback decision ran; `None` until the order needed one.
    pub fallback_at: Option<Millis>,
    /// `notification`, `masked_link` or `critical` (see `fallback`).
    pub fallback_path: Option<String>,
    /// The decision in words ("guest, 3 soft failures, masked re-send queued").
    pub fallback_why: Option<String>,
    /// `vpn`, `datacenter`, `tor` or `residential` (see `risk::NetworkKind`).
    pub network_kind: String,
    pub network_name: Option<String>,
    pub network_asn: Option<i64>,
    pub ip_country: Option<String>,
    /// 0–100 at intake; `None` for orders stored before scoring existed.
    pub risk_score: Option<i64>,
    /// The factors as JSON (`risk::Factor` list); see [`Order::risk_factors`].
    pub risk_json: Option<String>,
    /// The pool the routing policy chose for the first attempt.
    pub route_pool_id: Option<i64>,
    /// High risk: the shop should show the receipt on its thank-you page.
    pub inline_receipt: bool,
    /// The customer agreed to messages on WhatsApp (`customer.whatsapp_opt_in`).
    pub whatsapp_opt_in: bool,
    /// The customer's language (`customer.locale`, canonical BCP 47).
    pub customer_locale: Option<String>,
}

impl Order {
    /// Why the risk score is what it is, factor by factor.
    pub fn risk_factors(&self) -> Vec<crate::risk::Factor> {
        self.risk_json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default()
    }

    pub fn items(&self) -> Vec<ItemInput> {
        serde_json::from_str(&self.items_json).unwrap_or_default()
    }

    pub fn billing_lines(&self) -> Option<Vec<String>> {
        let b: super::BillingAddress = serde_json::from_str(self.billing_json.as_deref()?).ok()?;
        let mut lines = b.lines;
        if let Some(c) = b.country {
            lines.push(c);
        }
        Some(lines)
    }
}

/// One line of an order's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct OrderEvent {
    pub id: i64,
    pub order_id: i64,
    pub at: Millis,
    pub kind: String,
    pub detail: String,
}

/// What intake did: stored a new order, or found the one already posted.
#[derive(Debug, Clone)]
pub enum Intake {
    Created(Order),
    Existing(Order),
}

impl Intake {
    pub fn order(&self) -> &Order {
        match self {
            Intake::Created(o) | Intake::Existing(o) => o,
        }
    }
}

pub(crate) const COLUMNS: &str = "id, order_number, idempotency_key, placed_at, currency, subtotal_minor, \
    tax_minor, shipping_minor, discount_minor, total_minor, items_json, customer_email, customer_name, \
    customer_phone, account_kind, customer_ref, client_ip, billing_json, state, state_detail, attempts, \
    created_at, updated_at, reached_at, reached_via, fallback_at, fallback_path, fallback_why, \
    network_kind, network_name, network_asn, ip_country, risk_score, risk_json, route_pool_id, inline_receipt, \
    whatsapp_opt_in, customer_locale";

/// An order's receipt state as people see it: `sending` while a worker holds
/// its send job. Not stored: writing it before every send cost an update of
/// the order's row and all its indexes, and the job's lease already says it.
pub(crate) const STATE_AS_SEEN: &str = "CASE WHEN orders.state IN ('queued', 'retry_scheduled') \
     AND EXISTS (SELECT 1 FROM jobs j WHERE j.order_id = orders.id AND j.kind = 'send' AND j.state = 'running') \
     THEN 'sending' ELSE orders.state END";

/// [`COLUMNS`] for reads, the state as seen ([`STATE_AS_SEEN`]).
pub(crate) static READ_COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    COLUMNS.replacen(
        "billing_json, state,",
        &format!("billing_json, {STATE_AS_SEEN} AS state,"),
        1,
    )
});

pub async fn get(db: &Db, id: i64) -> Result<Option<Order>> {
    let sql = format!("SELECT {} FROM orders WHERE id = $1", *READ_COLUMNS);
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await)?)
}

/// Many orders by id in one query (a send batch), in no particular order,
/// with the state as stored (a batch's own jobs are running: `sending`).
pub async fn get_many(db: &Db, ids: &[i64]) -> Result<Vec<Order>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    static SQL: crate::db::PerBackend<String> = crate::db::PerBackend::new();
    let sql = SQL.get(db, |db| {
        format!(
            "SELECT {COLUMNS} FROM orders WHERE {}",
            crate::db::dialect::in_json_list(db, "id", 1, crate::db::dialect::JsonType::Int)
        )
    });
    let ids = crate::db::json_param(ids)?;
    // Planned at each run (see `dialect::in_json_list`).
    Ok(on_pool!(db, p => sqlx::query_as(sql).persistent(false).bind(&ids).fetch_all(p).await)?)
}

pub async fn find_by_number(db: &Db, number: &str) -> Result<Option<Order>> {
    let sql = format!(
        "SELECT {} FROM orders WHERE order_number = $1",
        *READ_COLUMNS
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(number).fetch_optional(p).await)?)
}

async fn find_by_idempotency_key(db: &Db, key: &str) -> Result<Option<Order>> {
    let sql = format!(
        "SELECT {} FROM orders WHERE idempotency_key = $1",
        *READ_COLUMNS
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(key).fetch_optional(p).await)?)
}

/// Newest first; `before_id` pages backwards.
pub async fn list_recent(db: &Db, before_id: Option<i64>, limit: i64) -> Result<Vec<Order>> {
    let sql = format!(
        "SELECT {} FROM orders WHERE id < $1 ORDER BY id DESC LIMIT $2",
        *READ_COLUMNS
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql)
        .bind(before_id.unwrap_or(i64::MAX)).bind(limit.clamp(1, 500)).fetch_all(p).await)?)
}

/// [`intake_assessed`] without a risk assessment (the order is stored as
/// residential/unknown with no score): for tools and tests.
pub async fn intake(
    db: &Db,
    now: Millis,
    order: ValidOrder,
    idempotency_key: Option<&str>,
) -> Result<Intake> {
    intake_assessed(db, now, order, idempotency_key, None).await
}

/// Stores a validated order and queues its receipt, exactly once per order
/// number (and per `Idempotency-Key`, when the shop sends one). Only
/// validation and two inserts happen here: sending is the workers' job.
/// The risk assessment (network, score, routing) is stored with the order.
/// (Texts written at intake use the order's own language, else English: the
/// API path, [`prepare_intake`], also knows the shop's default.)
pub async fn intake_assessed(
    db: &Db,
    now: Millis,
    order: ValidOrder,
    idempotency_key: Option<&str>,
    risk: Option<&crate::risk::Assessment>,
) -> Result<Intake> {
    let prepared = prepare_intake(now, order, idempotency_key, risk, None)?;
    let stored = insert_prepared(db, &[&prepared]).await?.pop().flatten();
    settle_intake(db, &prepared, stored).await
}

/// An order ready to be inserted: validated, encoded, with its risk columns.
#[derive(Debug, Clone)]
pub struct PreparedOrder {
    now: Millis,
    order: ValidOrder,
    idempotency_key: Option<String>,
    items_json: String,
    billing_json: Option<String>,
    network_kind: &'static str,
    network_name: Option<String>,
    network_asn: Option<i64>,
    ip_country: Option<String>,
    risk_score: Option<i64>,
    risk_json: Option<String>,
    route_pool_id: Option<i64>,
    inline_receipt: bool,
    intake_note: String,
    /// High risk and logged in: the account gets the receipt now, with this
    /// notice (in the order's language).
    proactive_ref: Option<String>,
    proactive_message: String,
}

/// Checks the `Idempotency-Key` and encodes the order for
/// [`insert_prepared`]. No database read: whether the order (or the key) is
/// already known is asked once per group commit, not once per order.
pub fn prepare_intake(
    now: Millis,
    order: ValidOrder,
    idempotency_key: Option<&str>,
    risk: Option<&crate::risk::Assessment>,
    shop_default_locale: Option<&str>,
) -> Result<PreparedOrder> {
    if idempotency_key.is_some_and(|key| key.is_empty() || key.len() > 255) {
        return Err(Error::invalid(
            "Idempotency-Key must be 1 to 255 characters",
        ));
    }
    let items_json =
        serde_json::to_string(&order.items).map_err(|e| Error::Internal(e.to_string()))?;
    let billing_json = order
        .billing_address
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| Error::Internal(e.to_string()))?;
    let risk_json = risk
        .map(|r| serde_json::to_string(&r.factors))
        .transpose()
        .map_err(|e| Error::Internal(e.to_string()))?;
    let inline_receipt = risk.is_some_and(|r| r.high);
    let intake_note = match risk {
        Some(r) if r.network.kind.is_flagged() || r.score > 0 => format!(
            "; {} network, risk {}{}",
            r.network.kind.label(),
            r.score,
            if r.high {
                " (high: routed, inline receipt)"
            } else {
                ""
            }
        ),
        _ => String::new(),
    };
    let proactive_ref = order
        .customer_ref
        .clone()
        .filter(|_| inline_receipt && order.account_kind == AccountKind::LoggedIn);
    let proactive_message = if proactive_ref.is_some() {
        crate::i18n::resolve(order.customer_locale.as_deref(), shop_default_locale, None).t(
            "notification-receipt-ready",
            &[("order", order.order_number.as_str())],
        )
    } else {
        String::new()
    };
    Ok(PreparedOrder {
        now,
        idempotency_key: idempotency_key.map(str::to_string),
        items_json,
        billing_json,
        network_kind: risk.map_or("residential", |r| r.network.kind.as_str()),
        network_name: risk.and_then(|r| r.network.name.clone()),
        network_asn: risk.and_then(|r| r.network.asn).map(i64::from),
        ip_country: risk.and_then(|r| r.network.country.clone()),
        risk_score: risk.map(|r| r.score),
        risk_json,
        route_pool_id: risk.and_then(|r| r.route_pool_id),
        inline_receipt,
        intake_note,
        proactive_ref,
        proactive_message,
        order,
    })
}

/// What an insert of `prepared` came to: the stored order, or (`None`, a
/// concurrent post of the same order won) the order already there.
pub async fn settle_intake(
    db: &Db,
    prepared: &PreparedOrder,
    stored: Option<Order>,
) -> Result<Intake> {
    if let Some(order) = stored {
        return Ok(Intake::Created(order));
    }
    let existing = match prepared.idempotency_key.as_deref() {
        Some(k) => find_by_idempotency_key(db, k).await?,
        None => None,
    };
    let existing = match existing {
        Some(o) => Some(o),
        None => find_by_number(db, &prepared.order.order_number).await?,
    };
    existing
        .map(Intake::Existing)
        .ok_or_else(|| Error::Conflict("order conflicts with another order".into()))
}

/// The statements of an intake group commit. Each takes its batch as one
/// JSON parameter (`db::json_param`): one text for every batch size, and
/// SQLite binds one value instead of 26 per order.
struct IntakeSql {
    /// `$1`: the batch's order numbers, `$2`: its idempotency keys; returns
    /// the (number, key) of the orders already stored under either.
    taken: String,
    /// `$1`: rows of the order columns below; returns the stored orders.
    orders: String,
    /// `$1`: rows of (order, at).
    jobs: String,
    /// `$1`: rows of (order, at, detail).
    events: String,
    /// PostgreSQL: the orders, their jobs and their timeline entries in one
    /// statement (one round trip instead of three; a group commit under
    /// load holds a handful of orders, so each statement's own cost counted).
    /// `$1`: as `orders`; `$2`: rows of (order number, timeline detail).
    orders_jobs_events: Option<String>,
}

impl IntakeSql {
    fn new(db: &Db) -> Self {
        use crate::db::dialect::{JsonType::*, in_json_list, json_rows};
        let order_rows = json_rows(
            db,
            1,
            &[
                ("order_number", Text),
                ("idempotency_key", Text),
                ("placed_at", Int),
                ("currency", Text),
                ("subtotal_minor", Int),
                ("tax_minor", Int),
                ("shipping_minor", Int),
                ("discount_minor", Int),
                ("total_minor", Int),
                ("items_json", Text),
                ("customer_email", Text),
                ("customer_name", Text),
                ("customer_phone", Text),
                ("account_kind", Text),
                ("customer_ref", Text),
                ("client_ip", Text),
                ("billing_json", Text),
                ("now", Int),
                ("network_kind", Text),
                ("network_name", Text),
                ("network_asn", Int),
                ("ip_country", Text),
                ("risk_score", Int),
                ("risk_json", Text),
                ("route_pool_id", Int),
                ("inline_receipt", Bool),
                ("whatsapp_opt_in", Bool),
                ("customer_locale", Text),
            ],
        );
        let orders = format!(
            "INSERT INTO orders (order_number, idempotency_key, placed_at, currency, subtotal_minor, \
            tax_minor, shipping_minor, discount_minor, total_minor, items_json, customer_email, customer_name, \
            customer_phone, account_kind, customer_ref, client_ip, billing_json, state, state_detail, attempts, \
            created_at, updated_at, network_kind, network_name, network_asn, ip_country, risk_score, risk_json, \
            route_pool_id, inline_receipt, whatsapp_opt_in, customer_locale) \
            SELECT order_number, idempotency_key, placed_at, currency, subtotal_minor, tax_minor, shipping_minor, \
            discount_minor, total_minor, items_json, customer_email, customer_name, customer_phone, account_kind, \
            customer_ref, client_ip, billing_json, 'queued', 'receipt queued', 0, now, now, network_kind, \
            network_name, network_asn, ip_country, risk_score, risk_json, route_pool_id, inline_receipt, \
            whatsapp_opt_in, customer_locale FROM ({order_rows}) AS v WHERE TRUE ON CONFLICT DO NOTHING \
            RETURNING {COLUMNS}"
        );
        let orders_jobs_events = matches!(db, Db::Postgres(_)).then(|| {
            let details = json_rows(db, 2, &[("order_number", Text), ("detail", Text)]);
            format!(
                "WITH ins AS ({orders}),
                 j AS (INSERT INTO jobs (kind, order_id, attempt_no, due_at, state, created_at)
                       SELECT 'send', id, 1, created_at, 'queued', created_at FROM ins),
                 e AS (INSERT INTO order_events (order_id, at, kind, detail)
                       SELECT ins.id, ins.created_at, 'intake', d.detail
                       FROM ins JOIN ({details}) AS d ON d.order_number = ins.order_number)
                 SELECT {COLUMNS} FROM ins"
            )
        });
        Self {
            orders_jobs_events,
            taken: format!(
                "SELECT order_number, idempotency_key FROM orders WHERE {} OR {}",
                in_json_list(db, "order_number", 1, Text),
                in_json_list(db, "idempotency_key", 2, Text),
            ),
            // `WHERE TRUE`: SQLite needs it to read ON CONFLICT after INSERT … SELECT.
            orders,
            jobs: format!(
                "INSERT INTO jobs (kind, order_id, attempt_no, due_at, state, created_at)
                 SELECT 'send', order_id, 1, at, 'queued', at FROM ({}) AS v",
                json_rows(db, 1, &[("order_id", Int), ("at", Int)])
            ),
            events: format!(
                "INSERT INTO order_events (order_id, at, kind, detail)
                 SELECT order_id, at, 'intake', detail FROM ({}) AS v",
                json_rows(db, 1, &[("order_id", Int), ("at", Int), ("detail", Text)])
            ),
        }
    }
}

/// One order of a group commit, in the column order of [`IntakeSql::orders`]:
/// a tuple struct serialises as a JSON array, the row `json_rows` reads.
#[derive(serde::Serialize)]
struct IntakeRow<'a>(
    &'a str,
    Option<&'a str>,
    i64,
    &'a str,
    i64,
    i64,
    i64,
    i64,
    i64,
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Millis,
    &'a str,
    Option<&'a str>,
    Option<i64>,
    Option<&'a str>,
    Option<i64>,
    Option<&'a str>,
    Option<i64>,
    bool,
    bool,
    Option<&'a str>,
);

impl<'a> IntakeRow<'a> {
    fn of(b: &'a PreparedOrder) -> Self {
        let (order, t) = (&b.order, &b.order.totals);
        Self(
            &order.order_number,
            b.idempotency_key.as_deref(),
            order.placed_at,
            &order.currency,
            t.subtotal,
            t.tax,
            t.shipping,
            t.discount,
            t.total,
            &b.items_json,
            &order.customer_email,
            &order.customer_name,
            order.customer_phone.as_deref(),
            order.account_kind.as_str(),
            order.customer_ref.as_deref(),
            order.client_ip.as_deref(),
            b.billing_json.as_deref(),
            b.now,
            b.network_kind,
            b.network_name.as_deref(),
            b.network_asn,
            b.ip_country.as_deref(),
            b.risk_score,
            b.risk_json.as_deref(),
            b.route_pool_id,
            b.inline_receipt,
            order.whatsapp_opt_in,
            order.customer_locale.as_deref(),
        )
    }
}

/// Inserts prepared orders with their first send job and timeline entry, all
/// in one transaction and one statement per table (on PostgreSQL one for all
/// three), so concurrent checkouts share one commit and a few round trips.
/// Per order: the stored row, or `None` when its number or key was already
/// taken (by an earlier order in the same batch too).
pub async fn insert_prepared(db: &Db, batch: &[&PreparedOrder]) -> Result<Vec<Option<Order>>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    static SQL: crate::db::PerBackend<IntakeSql> = crate::db::PerBackend::new();
    let sql = SQL.get(db, IntakeSql::new);
    let numbers = crate::db::json_param(
        &batch
            .iter()
            .map(|b| &b.order.order_number)
            .collect::<Vec<_>>(),
    )?;
    let keys = crate::db::json_param(
        &batch
            .iter()
            .filter_map(|b| b.idempotency_key.as_deref())
            .collect::<Vec<_>>(),
    )?;
    let turn = crate::db::write_turn(db).await;
    let inserted: Vec<Order> = on_pool!(db, p => {
        let mut tx = p.begin_with(crate::db::dialect::begin_read_then_write(db)).await?;
        // Repeats (a shop retrying a checkout) are left out before the insert,
        // so they take no PostgreSQL sequence number and ids stay alike on
        // both backends; ON CONFLICT still settles a race inside the batch.
        // Planned at each run (see `dialect::in_json_list`).
        let taken: Vec<(String, Option<String>)> = sqlx::query_as(&sql.taken)
            .persistent(false)
            .bind(&numbers)
            .bind(&keys)
            .fetch_all(&mut *tx)
            .await?;
        let new: Vec<IntakeRow> = batch
            .iter()
            .filter(|b| !taken.iter().any(|(number, key)| {
                *number == b.order.order_number
                    || (key.is_some() && key.as_deref() == b.idempotency_key.as_deref())
            }))
            .map(|b| IntakeRow::of(b))
            .collect();
        // Each order number's first order in the batch is the one stored.
        let mut by_number: std::collections::HashMap<&str, &PreparedOrder> =
            std::collections::HashMap::new();
        for b in batch {
            by_number.entry(b.order.order_number.as_str()).or_insert(*b);
        }
        let detail = |b: &PreparedOrder| {
            format!("order received ({} account){}; receipt queued", b.order.account_kind.as_str(), b.intake_note)
        };
        let inserted: Vec<Order> = if new.is_empty() {
            Vec::new()
        } else if let Some(all) = &sql.orders_jobs_events {
            let details: Vec<(&str, String)> = by_number.iter().map(|(n, b)| (*n, detail(b))).collect();
            sqlx::query_as(all)
                .bind(crate::db::json_param(&new)?)
                .bind(crate::db::json_param(&details)?)
                .fetch_all(&mut *tx).await?
        } else {
            let inserted: Vec<Order> = sqlx::query_as(&sql.orders)
                .bind(crate::db::json_param(&new)?).fetch_all(&mut *tx).await?;
            if !inserted.is_empty() {
                let job_rows: Vec<(i64, i64)> = inserted.iter().map(|o| (o.id, o.created_at)).collect();
                sqlx::query(&sql.jobs).bind(crate::db::json_param(&job_rows)?).execute(&mut *tx).await?;
                let event_rows: Vec<(i64, i64, String)> = inserted
                    .iter()
                    .filter_map(|o| by_number.get(o.order_number.as_str()).map(|b| (o.id, o.created_at, detail(b))))
                    .collect();
                sqlx::query(&sql.events).bind(crate::db::json_param(&event_rows)?).execute(&mut *tx).await?;
            }
            inserted
        };
        if !inserted.is_empty() {
            // High risk, logged-in customer: the receipt is put in their account
            // now, before email has had the chance to fail (rare: one by one).
            for o in &inserted {
                let Some((customer_ref, message)) = by_number
                    .get(o.order_number.as_str())
                    .and_then(|b| Some((b.proactive_ref.as_deref()?, b.proactive_message.as_str())))
                else {
                    continue;
                };
                sqlx::query(
                    "INSERT INTO notifications (order_id, customer_ref, kind, message, created_at)
                     VALUES ($1, $2, 'receipt_ready', $3, $4)",
                ).bind(o.id).bind(customer_ref)
                    .bind(message)
                    .bind(o.created_at).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO order_events (order_id, at, kind, detail) VALUES ($1, $2, 'fallback', $3)")
                    .bind(o.id).bind(o.created_at)
                    .bind("high risk: receipt posted to the customer's account in advance")
                    .execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        inserted
    });
    drop(turn);
    // Each stored row goes to the first order of the batch with its number.
    let mut by_number: std::collections::HashMap<String, Order> = inserted
        .into_iter()
        .map(|o| (o.order_number.clone(), o))
        .collect();
    Ok(batch
        .iter()
        .map(|b| by_number.remove(&b.order.order_number))
        .collect())
}

pub async fn add_event(db: &Db, order_id: i64, at: Millis, kind: &str, detail: &str) -> Result<()> {
    exec_on_pool!(db, p => sqlx::query("INSERT INTO order_events (order_id, at, kind, detail) VALUES ($1, $2, $3, $4)")
        .bind(order_id).bind(at).bind(kind).bind(detail).execute(p).await)?;
    Ok(())
}

pub async fn events(db: &Db, order_id: i64) -> Result<Vec<OrderEvent>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT id, order_id, at, kind, detail FROM order_events WHERE order_id = $1 ORDER BY id"
    ).bind(order_id).fetch_all(p).await)?)
}

/// What a support search box was given, by its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    Email(String),
    /// E.164, spaces and dashes removed.
    Phone(String),
    /// An order number or a shop's customer reference.
    Reference(String),
}

impl SearchKey {
    /// `None` for an empty or oversized query.
    pub fn parse(q: &str) -> Option<Self> {
        let q = q.trim();
        if q.is_empty() || q.chars().count() > 254 {
            return None;
        }
        if q.contains('@') {
            // Stored as intake normalised it (IDN domains in A-labels), so
            // `jörg@bücher.example` finds what `xn--bcher-kva` stored.
            let email = super::address::parse_mailbox(q)
                .or_else(|_| crate::accounts::normalize_email(q))
                .unwrap_or_else(|_| q.to_lowercase());
            return Some(Self::Email(email));
        }
        let digits = q.replace([' ', '-', '(', ')'], "");
        if digits.starts_with('+')
            && (8..=16).contains(&digits.len())
            && digits[1..].chars().all(|c| c.is_ascii_digit())
        {
            return Some(Self::Phone(digits));
        }
        Some(Self::Reference(q.to_string()))
    }
}

/// Orders matching a support search, newest first (at most `limit`): an exact
/// email, phone number, order number or customer reference. Each lookup is
/// one indexed equality, so it stays fast on millions of orders.
pub async fn search(db: &Db, key: &SearchKey, limit: i64) -> Result<Vec<Order>> {
    let (filter, value) = match key {
        SearchKey::Email(e) => ("customer_email = $1", e),
        SearchKey::Phone(p) => ("customer_phone = $1", p),
        // Both columns are indexed: the planners combine the two lookups.
        SearchKey::Reference(r) => ("(order_number = $1 OR customer_ref = $1)", r),
    };
    let sql = format!(
        "SELECT {} FROM orders WHERE {filter} ORDER BY id DESC LIMIT $2",
        *READ_COLUMNS
    );
    Ok(
        on_pool!(db, p => sqlx::query_as(&sql).bind(value).bind(limit.clamp(1, 200)).fetch_all(p).await)?,
    )
}

#[cfg(test)]
mod search_tests {
    use super::SearchKey;

    #[test]
    fn a_query_is_read_by_its_shape() {
        assert_eq!(
            SearchKey::parse("  Ann@Example.COM "),
            Some(SearchKey::Email("ann@example.com".into()))
        );
        assert_eq!(
            SearchKey::parse("Jorg@Bücher.example"),
            Some(SearchKey::Email("jorg@xn--bcher-kva.example".into())),
            "IDN domains are searched as intake stored them"
        );
        assert_eq!(
            SearchKey::parse("+49 151 1234-5678"),
            Some(SearchKey::Phone("+4915112345678".into()))
        );
        assert_eq!(
            SearchKey::parse("R-1001"),
            Some(SearchKey::Reference("R-1001".into()))
        );
        assert_eq!(
            SearchKey::parse("+12"),
            Some(SearchKey::Reference("+12".into())),
            "too short for a phone number"
        );
        assert_eq!(SearchKey::parse("   "), None);
        assert_eq!(SearchKey::parse(&"x".repeat(300)), None);
    }
}
