//! Believable history for demos and benchmarks (`rebound demo seed`), written
//! straight into the database, and its removal (`rebound demo clear`).
//!
//! Every generated order has `demo = TRUE` and a `DEMO-` order number; nothing
//! is queued, so nothing is sent. The story: most receipts are accepted at
//! once; about 8 % of orders come from VPN addresses (documentation range
//! 203.0.113.0/24, the rest from 198.51.100.0/24), and those often hit a
//! provider's reputation block on the primary pool and go through on the
//! backup; a few addresses are dead, a few deferrals need retries, and on one
//! day Microsoft blocked the primary pool outright. Held orders get their
//! fallback (account notification, masked link, or the support queue), and
//! most of them reach the customer later; recent critical ones stay open in
//! the held queue.

use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::clock::Millis;
use crate::db::Db;
use crate::delivery::pools::{self, PoolRole, SenderPool};
use crate::error::{Error, Result};
use crate::fallback::decide::{PRIORITY_CRITICAL, PRIORITY_HIGH_VALUE};
use crate::on_pool;
use crate::stats::{self, DAY_MS};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub orders: u64,
    /// Spread over this many days up to now.
    pub days: i64,
    /// The same seed gives the same history (relative to `now`).
    pub seed: u64,
}

/// What was generated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seeded {
    pub orders: u64,
    pub vpn: u64,
    pub held: u64,
    pub reached: u64,
    pub open_cases: u64,
}

/// The first enabled pool whose relay really sends mail, if any: demo orders
/// carry made-up addresses at real mailbox providers, so a demo belongs on a
/// database whose pools only capture.
pub async fn real_relay(db: &Db) -> Result<Option<String>> {
    Ok(pools::list(db)
        .await?
        .into_iter()
        .find(|p| p.enabled && !p.relay_url.starts_with("capture:"))
        .map(|p| p.name))
}

struct Attempt {
    no: i64,
    pool_id: i64,
    started: Millis,
    finished: Millis,
    outcome: &'static str,
    code: i64,
    text: String,
    reason: &'static str,
    class: &'static str,
    purpose: &'static str,
}

struct LateBounce {
    at: Millis,
    attempt_no: i64,
    class: &'static str,
    reason: &'static str,
    hard: bool,
    status: &'static str,
    diagnostic: &'static str,
}

struct Case {
    priority: i64,
    reason: String,
    opened: Millis,
    status: &'static str,
    resolved: Option<(Millis, &'static str, String)>,
}

struct Plan {
    number: String,
    created: Millis,
    currency: &'static str,
    items_json: String,
    subtotal: i64,
    tax: i64,
    shipping: i64,
    total: i64,
    email: String,
    name: String,
    phone: Option<String>,
    account_kind: &'static str,
    customer_ref: Option<String>,
    client_ip: String,
    /// `vpn` or `residential`, with the score intake would have given.
    network: &'static str,
    risk_score: i64,
    risk_json: String,
    state: &'static str,
    state_detail: String,
    updated: Millis,
    reached: Option<(Millis, &'static str)>,
    fallback: Option<(Millis, &'static str, String)>,
    attempts: Vec<Attempt>,
    bounces: Vec<LateBounce>,
    events: Vec<(Millis, &'static str, String)>,
    case: Option<Case>,
}

struct Pools {
    primary: SenderPool,
    backup: SenderPool,
    masked: Option<SenderPool>,
}

const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloé", "David", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemal",
    "Lena", "Mia", "Noah", "Olga", "Priya", "Rafael", "Sofia", "Tom", "Yuki",
];
const LAST: &[&str] = &[
    "Silva", "Meyer", "Dubois", "Okafor", "Rossi", "Tanaka", "Novak", "García", "Müller", "Khan",
];
const ITEMS: &[(&str, i64)] = &[
    ("Blue mug", 1250),
    ("Desk lamp", 4900),
    ("Notebook, dotted", 890),
    ("Wool scarf", 3500),
    ("Headphones", 12900),
    ("Coffee beans 1 kg", 2400),
    ("Phone case", 1990),
    ("Running socks", 1490),
];

fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

/// Generates `opts.orders` orders over the last `opts.days` days (none in the
/// last 3 hours, so every retry has happened), then recomputes the rollups of
/// those days. Creates the development capture pools if there are none.
pub async fn seed(db: &Db, now: Millis, opts: &SeedOptions) -> Result<Seeded> {
    if opts.days < 1 || opts.days > 400 {
        return Err(Error::invalid("--days must be between 1 and 400"));
    }
    pools::ensure_dev_pools(db, now).await?;
    let all = pools::list(db).await?;
    let by_role = |role: PoolRole| all.iter().find(|p| p.enabled && p.role == role).cloned();
    let primary = by_role(PoolRole::Primary)
        .ok_or_else(|| Error::invalid("demo data needs an enabled primary sender pool"))?;
    let pools = Pools {
        backup: by_role(PoolRole::Backup).unwrap_or_else(|| primary.clone()),
        masked: by_role(PoolRole::Masked),
        primary,
    };
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let start = now - opts.days * DAY_MS;
    let end = now - 3 * HOUR;
    let span = (end - start).max(1);
    // The day Microsoft blocked the primary pool outright (a third of the way back).
    let incident_day = stats::day_of(now - (opts.days / 3).max(1) * DAY_MS);
    let run = now / 1000;
    let mut seeded = Seeded::default();
    let mut next = 0;
    // Batches are planned as the writers free up. PostgreSQL takes two at
    // once (its backends use both cores; 10 M orders is a long seed), SQLite
    // has one writer anyway.
    let batches = std::iter::from_fn(|| {
        if next >= opts.orders {
            return None;
        }
        let mut batch = Vec::with_capacity(BATCH);
        while batch.len() < BATCH && next < opts.orders {
            let created = start + rng.random_range(0..span);
            let plan = plan_order(&mut rng, &pools, now, created, run, next, incident_day);
            seeded.orders += 1;
            seeded.vpn += u64::from(plan.client_ip.starts_with("203.0.113."));
            seeded.held += u64::from(plan.fallback.is_some());
            seeded.reached += u64::from(plan.reached.is_some());
            seeded.open_cases += u64::from(plan.case.as_ref().is_some_and(|c| c.status == "open"));
            batch.push(plan);
            next += 1;
        }
        Some(batch)
    });
    let writers = if matches!(db, Db::Postgres(_)) { 2 } else { 1 };
    let mut writes = futures::stream::iter(batches.map(|b| write(db, b))).buffer_unordered(writers);
    while let Some(done) = writes.next().await {
        done?;
    }
    drop(writes); // the planner borrows `seeded` until the stream is gone
    stats::rebuild(db, stats::day_of(start), stats::day_of(now)).await?;
    Ok(seeded)
}

/// Orders per insert transaction.
const BATCH: usize = 300;

#[allow(clippy::too_many_arguments)]
fn plan_order(
    rng: &mut StdRng,
    pools: &Pools,
    now: Millis,
    created: Millis,
    run: i64,
    i: u64,
    incident_day: i64,
) -> Plan {
    let provider_roll: f64 = rng.random();
    let (provider, domain) = if provider_roll < 0.42 {
        ("gmail", "gmail.com")
    } else if provider_roll < 0.64 {
        (
            "microsoft",
            *pick(rng, &["outlook.com", "hotmail.com", "live.com"]),
        )
    } else if provider_roll < 0.76 {
        ("yahoo", *pick(rng, &["yahoo.com", "aol.com"]))
    } else {
        (
            "other",
            *pick(
                rng,
                &["web.de", "gmx.net", "icloud.com", "proton.me", "orange.fr"],
            ),
        )
    };
    let vpn = rng.random_bool(0.08);
    let first = *pick(rng, FIRST);
    let last = *pick(rng, LAST);
    let kind_roll: f64 = rng.random();
    let account_kind = if kind_roll < 0.55 {
        "guest"
    } else if kind_roll < 0.9 {
        "logged_in"
    } else {
        "social"
    };
    let customer_ref = (account_kind == "logged_in").then(|| format!("demo-customer-{run}-{i}"));
    let (item, price) = *pick(rng, ITEMS);
    let qty = rng.random_range(1..=3);
    let subtotal = price * qty;
    let shipping = if subtotal >= 5000 { 0 } else { 495 };
    let tax = subtotal * 19 / 100;
    let mut p = Plan {
        number: format!("DEMO-{run}-{:06}", i + 1),
        created,
        currency: if rng.random_bool(0.7) { "EUR" } else { "USD" },
        items_json: serde_json::json!([{ "name": item, "quantity": qty, "unit_price": price }])
            .to_string(),
        subtotal,
        tax,
        shipping,
        total: subtotal + shipping + tax,
        email: format!(
            "rebound-demo-{}.{}-{run}-{i}@{domain}",
            first.to_lowercase(),
            last.to_lowercase()
        ),
        name: format!("{first} {last}"),
        phone: rng
            .random_bool(0.6)
            .then(|| format!("+1202555{:04}", 100 + i % 100)),
        account_kind,
        customer_ref,
        client_ip: if vpn {
            format!("203.0.113.{}", rng.random_range(1..255))
        } else {
            format!("198.51.100.{}", rng.random_range(1..255))
        },
        network: if vpn { "vpn" } else { "residential" },
        risk_score: 0,
        risk_json: "[]".into(),
        state: "accepted",
        state_detail: String::new(),
        updated: created,
        reached: None,
        fallback: None,
        attempts: Vec::new(),
        bounces: Vec::new(),
        events: vec![(
            created,
            "intake",
            format!("order received ({account_kind} account); receipt queued"),
        )],
        case: None,
    };

    // Sending: up to 4 attempts, 5 min / 30 min / 2 h apart.
    let delays = [5 * MIN, 30 * MIN, 2 * HOUR];
    let mut t = created + rng.random_range(300..3000);
    let mut pool = &pools.primary;
    let mut dead = false;
    let mut held_reason: Option<String> = None;
    for no in 1..=4_i64 {
        let blocked_day = stats::day_of(t) == incident_day && provider == "microsoft";
        let roll: f64 = rng.random();
        let on_primary = pool.id == pools.primary.id;
        let (outcome, code, text, reason, class) = if on_primary
            && (blocked_day || (vpn && provider != "other" && roll < 0.55))
        {
            match provider {
                "microsoft" => (
                    "rejected",
                    550,
                    "5.7.1 Unfortunately, messages from [192.0.2.10] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).",
                    "blocked",
                    "sender_reputation",
                ),
                "yahoo" => (
                    "deferred",
                    421,
                    "4.7.0 [TSS04] Messages from 192.0.2.10 temporarily deferred due to unexpected volume or user complaints",
                    "rejected",
                    "sender_reputation",
                ),
                _ => (
                    "deferred",
                    421,
                    "4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail has been rate limited.",
                    "blocked",
                    "sender_reputation",
                ),
            }
        } else if no == 1 && roll > 0.988 {
            (
                "rejected",
                550,
                "5.1.1 The email account that you tried to reach does not exist.",
                "userunknown",
                "recipient_permanent",
            )
        } else if no == 1 && roll > 0.985 {
            (
                "rejected",
                554,
                "5.6.0 Message content rejected",
                "contenterror",
                "content",
            )
        } else if roll < 0.03 {
            (
                "deferred",
                451,
                "4.7.1 Try again later, closing connection.",
                "expired",
                "transient",
            )
        } else {
            ("accepted", 250, "2.0.0 OK queued", "delivered", "delivered")
        };
        let finished = t + rng.random_range(200..2500);
        p.attempts.push(Attempt {
            no,
            pool_id: pool.id,
            started: t,
            finished,
            outcome,
            code,
            text: text.to_string(),
            reason,
            class,
            purpose: "receipt",
        });
        p.updated = finished;
        let note = format!("{code} {text} via {}", pool.name);
        match class {
            "delivered" => {
                p.events.push((
                    finished,
                    "accepted",
                    format!("accepted by {} (attempt {no})", pool.name),
                ));
                p.state_detail = format!("accepted by {}", pool.name);
                break;
            }
            "recipient_permanent" | "content" => {
                dead = class == "recipient_permanent";
                held_reason = Some(note);
                break;
            }
            _ if no == 4 => {
                held_reason = Some(format!("retries exhausted; last: {note}"));
                break;
            }
            _ => {
                let due = finished + delays[(no - 1) as usize];
                p.events.push((
                    finished,
                    "retry_scheduled",
                    format!(
                        "{note}; attempt {} due {}",
                        no + 1,
                        crate::clock::format_utc(due)
                    ),
                ));
                // Never again through a pool that just blocked us.
                pool = if class == "sender_reputation" || on_primary {
                    &pools.backup
                } else {
                    &pools.primary
                };
                t = due;
            }
        }
    }
    let last_no = p.attempts.last().map(|a| a.no).unwrap_or(1);

    // After acceptance: a late hard bounce, a complaint, or email reach after the window.
    if held_reason.is_none() {
        let accepted_at = p.updated;
        let roll: f64 = rng.random();
        if roll < 0.004 {
            let at = accepted_at + rng.random_range(2 * MIN..30 * MIN);
            p.bounces.push(LateBounce {
                at,
                attempt_no: last_no,
                class: "recipient_permanent",
                reason: "userunknown",
                hard: true,
                status: "5.1.1",
                diagnostic: "550 5.1.1 user unknown",
            });
            p.events.push((
                at,
                "bounce",
                "a late DSN: 5.1.1 user unknown (recipient_permanent)".into(),
            ));
            dead = true;
            held_reason = Some("the accepted receipt bounced later: 5.1.1 user unknown".into());
            p.updated = at;
        } else {
            if roll > 0.9992 {
                let at = accepted_at + rng.random_range(HOUR..48 * HOUR);
                if at < now {
                    p.bounces.push(LateBounce {
                        at,
                        attempt_no: last_no,
                        class: "complaint",
                        reason: "feedback",
                        hard: false,
                        status: "",
                        diagnostic: "abuse report (ARF)",
                    });
                    p.events
                        .push((at, "bounce", "the recipient marked it as spam".into()));
                }
            }
            if accepted_at + HOUR < now {
                p.reached = Some((accepted_at, "email"));
                p.events.push((
                    accepted_at,
                    "reached",
                    "receipt reached the customer: email".into(),
                ));
            }
        }
    }

    // Held: the fallback and what came of it.
    if let Some(reason) = held_reason {
        p.state = "held";
        p.state_detail = reason.clone();
        p.events.push((
            p.updated,
            "held",
            format!(
                "{reason}{}",
                if dead { "; the address is dead" } else { "" }
            ),
        ));
        let decided = p.updated + rng.random_range(1000..5000);
        let high_value = p.total >= 50_000;
        let (path, why, reach_after, channel, reach_p) = if p.customer_ref.is_some() {
            (
                "notification",
                "logged-in customer: account notification and receipt.held event",
                rng.random_range(10 * MIN..48 * HOUR),
                "notification_seen",
                0.7,
            )
        } else if dead || pools.masked.is_none() {
            (
                "critical",
                "guest with a dead address: support queue, critical",
                rng.random_range(20 * MIN..8 * HOUR),
                if rng.random_bool(0.5) {
                    "support_call"
                } else {
                    "sms_delivered"
                },
                0.6,
            )
        } else {
            (
                "masked_link",
                "guest, email alive: masked re-send of a fresh link queued",
                rng.random_range(5 * MIN..12 * HOUR),
                "link_opened",
                0.65,
            )
        };
        p.fallback = Some((decided, path, why.to_string()));
        p.events.push((decided, "fallback", why.to_string()));
        if let ("masked_link", Some(masked)) = (path, &pools.masked) {
            let at = decided + rng.random_range(1000..20_000);
            p.attempts.push(Attempt {
                no: 101,
                pool_id: masked.id,
                started: at,
                finished: at + 800,
                outcome: "accepted",
                code: 250,
                text: "2.0.0 OK queued".into(),
                reason: "delivered",
                class: "delivered",
                purpose: "masked_link",
            });
            p.events.push((
                at + 800,
                "masked_resend",
                format!(
                    "secure link re-sent through the masked pool {}",
                    masked.name
                ),
            ));
        }
        let reached_at = decided + reach_after;
        if rng.random_bool(reach_p) && reached_at < now {
            p.reached = Some((reached_at, channel));
            p.events.push((
                reached_at,
                "reached",
                format!("receipt reached the customer: {channel}"),
            ));
        }
        if path == "critical" || high_value {
            let priority = if path == "critical" {
                PRIORITY_CRITICAL
            } else {
                PRIORITY_HIGH_VALUE
            };
            let resolved = match p.reached {
                Some((at, ch)) => Some((at, "rebound", format!("the customer was reached ({ch})"))),
                None if decided < now - 3 * DAY_MS => Some((
                    decided + 2 * DAY_MS,
                    "demo-agent@rebound.local",
                    "no answer after three calls; closed".to_string(),
                )),
                None => None,
            };
            p.case = Some(Case {
                priority,
                reason: why.to_string(),
                opened: decided,
                status: if resolved.is_some() {
                    "resolved"
                } else {
                    "open"
                },
                resolved,
            });
        }
    }
    // The score intake would have given: the network, the provider's recent
    // rate on the primary, and (VPN to a big provider) the learned block.
    // Its own RNG, seeded by the order's index, so adding the score left the
    // rest of the seeded history exactly as it was.
    let rng = &mut StdRng::seed_from_u64(0x7269_736b ^ i);
    let mut factors = vec![crate::risk::Factor {
        key: "provider_recent".into(),
        label: format!("{provider} on pool demo-primary: recent bounces and deferrals"),
        points: rng.random_range(2..8),
    }];
    if vpn {
        factors.push(crate::risk::Factor {
            key: "network".into(),
            label: "ordered from a VPN network (Demo VPN)".into(),
            points: 25,
        });
        if provider != "other" {
            factors.push(crate::risk::Factor {
                key: "learned".into(),
                label: format!(
                    "VPN orders to {provider} on pool demo-primary bounce far above the rest"
                ),
                points: rng.random_range(22..31),
            });
        }
    }
    p.risk_score = factors.iter().map(|f| f.points).sum::<i64>().min(100);
    p.risk_json = serde_json::to_string(&factors).unwrap_or_else(|_| "[]".into());
    p
}

/// Inserts a batch of planned orders with everything that hangs off them, in one transaction.
async fn write(db: &Db, plans: Vec<Plan>) -> Result<()> {
    if plans.is_empty() {
        return Ok(());
    }
    on_pool!(db, p => {
        let mut tx = p.begin().await?;
        let mut qb = sqlx::QueryBuilder::new(
            "INSERT INTO orders (order_number, placed_at, currency, subtotal_minor, tax_minor, shipping_minor, \
             discount_minor, total_minor, items_json, customer_email, customer_name, customer_phone, account_kind, \
             customer_ref, client_ip, state, state_detail, attempts, created_at, updated_at, reached_at, reached_via, \
             fallback_at, fallback_path, fallback_why, demo, network_kind, network_name, risk_score, risk_json) ",
        );
        qb.push_values(&plans, |mut b, o| {
            b.push_bind(&o.number).push_bind(o.created - 20_000).push_bind(o.currency)
                .push_bind(o.subtotal).push_bind(o.tax).push_bind(o.shipping).push_bind(0_i64)
                .push_bind(o.total).push_bind(&o.items_json).push_bind(&o.email).push_bind(&o.name)
                .push_bind(&o.phone).push_bind(o.account_kind).push_bind(&o.customer_ref)
                .push_bind(&o.client_ip).push_bind(o.state).push_bind(&o.state_detail)
                .push_bind(o.attempts.iter().filter(|a| a.purpose == "receipt").count() as i64)
                .push_bind(o.created).push_bind(o.updated)
                .push_bind(o.reached.map(|r| r.0)).push_bind(o.reached.map(|r| r.1))
                .push_bind(o.fallback.as_ref().map(|f| f.0)).push_bind(o.fallback.as_ref().map(|f| f.1))
                .push_bind(o.fallback.as_ref().map(|f| f.2.clone())).push_bind(true)
                .push_bind(o.network).push_bind((o.network == "vpn").then_some("Demo VPN"))
                .push_bind(o.risk_score).push_bind(&o.risk_json);
        });
        qb.push(" RETURNING id, order_number");
        let ids: Vec<(i64, String)> = qb.build_query_as().fetch_all(&mut *tx).await?;
        let id_of = |number: &str| ids.iter().find(|(_, n)| n == number).map(|(id, _)| *id);
        let mut attempts = Vec::new();
        let mut events = Vec::new();
        let mut cases = Vec::new();
        for o in &plans {
            let Some(id) = id_of(&o.number) else { continue };
            attempts.extend(o.attempts.iter().map(|a| (id, o, a)));
            events.extend(o.events.iter().map(|e| (id, e)));
            if let Some(c) = &o.case {
                cases.push((id, c));
            }
        }
        let mut attempt_ids: Vec<(i64, i64, i64)> = Vec::new();
        for chunk in attempts.chunks(500) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO delivery_attempts (order_id, attempt_no, pool_id, message_id, verp_token, started_at, \
                 finished_at, outcome, smtp_code, smtp_text, reason, class, rule, purpose) ",
            );
            qb.push_values(chunk, |mut b, (id, o, a)| {
                let token = format!("demo{}x{}", o.number.to_ascii_lowercase().replace('-', ""), a.no);
                b.push_bind(*id).push_bind(a.no).push_bind(a.pool_id)
                    .push_bind(format!("r{id}.a{}.{token}@demo.rebound.local", a.no)).push_bind(token)
                    .push_bind(a.started).push_bind(a.finished).push_bind(a.outcome).push_bind(a.code)
                    .push_bind(a.text.clone()).push_bind(a.reason).push_bind(a.class)
                    .push_bind((a.class != "delivered").then_some("demo")).push_bind(a.purpose);
            });
            qb.push(" RETURNING id, order_id, attempt_no");
            let got: Vec<(i64, i64, i64)> = qb.build_query_as().fetch_all(&mut *tx).await?;
            attempt_ids.extend(got);
        }
        let mut bounces = Vec::new();
        for o in &plans {
            let Some(id) = id_of(&o.number) else { continue };
            for b in &o.bounces {
                let attempt = attempt_ids.iter().find(|(_, oid, no)| *oid == id && *no == b.attempt_no).map(|x| x.0);
                bounces.push((id, attempt, o, b));
            }
        }
        for chunk in bounces.chunks(500) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO bounces (received_at, source, order_id, attempt_id, matched_by, recipient, reason, \
                 class, hard, status, reply_code, rule, diagnostic) ",
            );
            qb.push_values(chunk, |mut b, (id, attempt, o, x)| {
                b.push_bind(x.at).push_bind(if x.class == "complaint" { "arf" } else { "dsn" })
                    .push_bind(*id).push_bind(*attempt).push_bind("verp").push_bind(&o.email)
                    .push_bind(x.reason).push_bind(x.class).push_bind(x.hard)
                    .push_bind((!x.status.is_empty()).then_some(x.status))
                    .push_bind(x.hard.then_some(550_i64)).push_bind("demo").push_bind(x.diagnostic);
            });
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in events.chunks(1000) {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO order_events (order_id, at, kind, detail) ");
            qb.push_values(chunk, |mut b, (id, (at, kind, detail))| {
                b.push_bind(*id).push_bind(*at).push_bind(*kind).push_bind(detail.clone());
            });
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in cases.chunks(500) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO support_cases (order_id, priority, reason, opened_at, due_at, status, resolved_at, \
                 resolved_by, resolution_note) ",
            );
            qb.push_values(chunk, |mut b, (id, c)| {
                let sla = if c.priority == PRIORITY_CRITICAL { HOUR } else { 4 * HOUR };
                b.push_bind(*id).push_bind(c.priority).push_bind(c.reason.clone()).push_bind(c.opened)
                    .push_bind(c.opened + sla).push_bind(c.status)
                    .push_bind(c.resolved.as_ref().map(|r| r.0))
                    .push_bind(c.resolved.as_ref().map(|r| r.1))
                    .push_bind(c.resolved.as_ref().map(|r| r.2.clone()));
            });
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Removes every demo order and everything tied to it, then recomputes the
/// rollups of the days they covered. Returns how many orders went.
pub async fn clear(db: &Db, now: Millis) -> Result<u64> {
    let oldest: Option<i64> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT MIN(created_at) FROM orders WHERE demo"
    ).fetch_one(p).await)?;
    let Some(oldest) = oldest else {
        return Ok(0);
    };
    const DEMO: &str = "(SELECT id FROM orders WHERE demo)";
    let statements = [
        format!(
            "DELETE FROM link_uses WHERE link_id IN (SELECT id FROM receipt_links WHERE order_id IN {DEMO})"
        ),
        format!("DELETE FROM receipt_links WHERE order_id IN {DEMO}"),
        format!("DELETE FROM notifications WHERE order_id IN {DEMO}"),
        format!("DELETE FROM sms_messages WHERE order_id IN {DEMO}"),
        format!("DELETE FROM support_cases WHERE order_id IN {DEMO}"),
        format!("DELETE FROM bounces WHERE order_id IN {DEMO}"),
        format!("DELETE FROM outbox WHERE order_id IN {DEMO}"),
        format!("DELETE FROM jobs WHERE order_id IN {DEMO}"),
        format!("DELETE FROM order_events WHERE order_id IN {DEMO}"),
        format!("DELETE FROM delivery_attempts WHERE order_id IN {DEMO}"),
    ];
    let removed = on_pool!(db, p => {
        let mut tx = p.begin().await?;
        for s in &statements {
            sqlx::query(s).execute(&mut *tx).await?;
        }
        let n = sqlx::query("DELETE FROM orders WHERE demo").execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        n
    });
    stats::rebuild(db, stats::day_of(oldest), stats::day_of(now)).await?;
    Ok(removed)
}

/// Whether the database has any order at all, demo or real.
pub async fn has_orders(db: &Db) -> Result<bool> {
    let n: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM orders LIMIT 1) AS one"
    ).fetch_one(p).await)?;
    Ok(n > 0)
}

/// Whether any demo order exists (one probe of the `orders_demo` index).
pub async fn present(db: &Db) -> Result<bool> {
    let n: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM orders WHERE demo LIMIT 1) AS one"
    ).fetch_one(p).await)?;
    Ok(n > 0)
}

/// How many demo orders there are.
pub async fn count(db: &Db) -> Result<i64> {
    Ok(
        on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE demo").fetch_one(p).await)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn seeds_a_believable_history_and_clears_it() {
        const NOW: Millis = 1_800_000_000_000;
        for t in crate::testing::all_backends().await {
            let db = &t.db;
            let opts = SeedOptions {
                orders: 700,
                days: 10,
                seed: 7,
            };
            let s = seed(db, NOW, &opts).await.expect("seed");
            assert_eq!(s.orders, 700);
            assert!((30..=90).contains(&s.vpn), "about 8 % VPN: {s:?}");
            assert!(s.held > 10 && s.reached > 600, "{s:?}");
            assert_eq!(count(db).await.expect("count"), 700);
            assert_eq!(real_relay(db).await.expect("pools"), None);

            let total = stats::totals(db, stats::day_of(NOW) - 10, stats::day_of(NOW))
                .await
                .expect("totals");
            assert_eq!(total.orders, 700);
            assert_eq!(total.held as u64, s.held);
            assert_eq!(total.reached as u64, s.reached);
            assert!(total.sent > 700 && total.accepted >= 690, "{total:?}");
            // VPN orders hitting provider blocks on the primary pool.
            assert!(total.bounced[1] > 10, "sender reputation: {total:?}");
            let ttr: i64 = total.ttr.iter().sum();
            assert_eq!(ttr, total.reached);
            // Every order row is readable by the normal repository.
            let some = crate::orders::list_recent(db, None, 5).await.expect("list");
            assert!(some.iter().all(|o| o.order_number.starts_with("DEMO-")));

            // Real orders stay when the demo goes.
            let input: crate::orders::OrderInput = serde_json::from_value(serde_json::json!({
                "order_number": "REAL-1", "placed_at": "2026-11-27T21:00:00Z",
                "currency": "EUR", "items": [{ "name": "Mug", "quantity": 1, "unit_price": 500 }],
                "totals": { "subtotal": 500, "total": 500 },
                "customer": { "email": "real@example.com", "name": "Real", "account_kind": "guest" }
            }))
            .expect("json");
            crate::orders::intake(db, NOW, input.validate().expect("valid"), None)
                .await
                .expect("intake");
            assert_eq!(clear(db, NOW).await.expect("clear"), 700);
            assert_eq!(count(db).await.expect("count"), 0);
            assert!(
                crate::orders::find_by_number(db, "REAL-1")
                    .await
                    .expect("find")
                    .is_some()
            );
            let total = stats::totals(db, stats::day_of(NOW) - 10, stats::day_of(NOW))
                .await
                .expect("totals");
            assert_eq!((total.orders, total.sent), (1, 0));
            assert_eq!(clear(db, NOW).await.expect("clear again"), 0);
            t.cleanup().await;
        }
    }
}
