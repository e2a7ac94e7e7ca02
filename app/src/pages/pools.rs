use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::{ActionStatus, ErrorNotice};
use crate::server_fns::pools::{SavePool, SetPoolEnabled, list_pools, pool_health};
use crate::types::{HealthWindowView, PoolHealthView, PoolRole, PoolRow};

/// Sender pools: who receipts are sent as and through which relay.
#[component]
pub fn PoolsPage() -> impl IntoView {
    let toggle = ServerAction::<SetPoolEnabled>::new();
    let save = ServerAction::<SavePool>::new();
    let pools = crate::resource::resource(
        move || (toggle.version().get(), save.version().get()),
        |_| list_pools(),
    );
    let health = crate::resource::resource(move || toggle.version().get(), |_| pool_health());
    let query = leptos_router::hooks::use_query_map();
    let editing = move || query.read().get("edit").and_then(|v| v.parse::<i64>().ok());
    view! {
        <Title text="Sender pools · Rebound"/>
        <h1>"Sender pools"</h1>
        <p class="muted">"Receipts go through the primary pool first; retries walk on to the backup pools, never through a pool that was just blocked for reputation. The masked pool re-sends fallback links under a neutral name."</p>
        <ActionStatus value=Signal::derive(move || toggle.value().get()) success=Signal::derive(|| "Saved.".to_string())/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match pools.await {
                    // Six columns, so the table is whole at 1440 px: what each
                    // pool is, how it sends, its state, its health and its week.
                    Ok(rows) => { let rows_for_edit = rows.clone(); view! {
                        <div class="table-wrap" tabindex="0" role="region" aria-label="Sender pools (scrolls sideways)">
                            <table class="pools">
                                <caption class="sr-only">"Sender pools"</caption>
                                <thead><tr>
                                    <th scope="col">"Pool"</th><th scope="col">"Sends as"</th>
                                    <th scope="col">"State"</th>
                                    <th scope="col">"Health (bounces · deferrals · complaints)"</th>
                                    <th scope="col">"Last 7 days"</th>
                                    <th scope="col">"Action"</th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|p| view! {
                                        <tr>
                                            <td>
                                                <strong>{p.name.clone()}</strong>
                                                <span class="detail block">{format!("{} · at most {}/s", p.role, p.max_per_second)}</span>
                                                <span class="detail block"><abbr title="International">"Int'l"</abbr>" addresses: "
                                                    {if p.smtputf8 { "yes (SMTPUTF8)" } else { "no" }}</span>
                                            </td>
                                            <td>{p.from}<span class="detail block"><code>{p.relay}</code></span></td>
                                            <td>
                                                {match (p.enabled, p.health_state.as_str()) {
                                                    (false, "paused") => "Paused by the health guard",
                                                    (false, _) => "Paused",
                                                    (true, "demoted") => "Active, demoted by the health guard",
                                                    _ => "Active",
                                                }}
                                                {p.health_reason.clone().map(|r| view! { <span class="detail block">{r}</span> })}
                                                {p.relay_down.clone().map(|r| view! { <strong class="detail block">{r}. Tried after every other pool until it answers.</strong> })}
                                            </td>
                                            <td><HealthWindows windows=p.health.clone()/></td>
                                            <td>
                                                <dl class="week">
                                                    <dt>"Accepted (7 days)"</dt><dd>{p.accepted_7d}</dd>
                                                    <dt>"Complaints (7 days)"</dt><dd>{p.complaints_7d}</dd>
                                                    <dt>"Complaint rate"</dt><dd><ComplaintRate rate=p.complaint_rate.clone() level=p.complaint_level.clone()/></dd>
                                                    <dt>"Bounces (7 days)"</dt><dd>{bounce_summary(&p.bounces_7d)}</dd>
                                                </dl>
                                            </td>
                                            <td>
                                                <ActionForm action=toggle attr:class="inline">
                                                    <input type="hidden" name="pool_id" value=p.id/>
                                                    <input type="hidden" name="enabled" value=if p.enabled { "false" } else { "true" }/>
                                                    <button type="submit" class="small">{if p.enabled { "Pause" } else { "Resume" }}</button>
                                                </ActionForm>
                                                " "{if p.from_file {
                                                    view! { <span class="detail">"Set in rebound.toml"</span> }.into_any()
                                                } else {
                                                    view! { <a class="small-link" href=format!("/pools?edit={}", p.id)>{format!("Edit {}", p.name)}</a> }.into_any()
                                                }}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <PoolForm save pool=editing().and_then(|id| rows_for_edit.into_iter().find(|p| p.id == id))/>
                    }.into_any() }
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match health.await {
                    Ok(h) => view! { <HealthSection h/> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `1 h: 120 sent · 4.00 % · 0.83 % · 0.00 %`, one line per window, the level
/// in words as well as colour.
#[component]
fn HealthWindows(windows: Vec<HealthWindowView>) -> impl IntoView {
    view! {
        <ul class="health-windows">
            {windows.into_iter().map(|w| {
                let word = match w.level.as_str() {
                    "critical" => " · over the pause threshold",
                    "warning" => " · over the demotion threshold",
                    _ => "",
                };
                view! {
                    <li class=format!("level-{}", w.level)>
                        <span class="nowrap">{format!("{}: {} sent", w.label, w.sends)}</span>" · "
                        <span class="nowrap">{format!("{} · {} · {}", w.bounce, w.deferral, w.complaint)}</span>
                        <strong>{word}</strong>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// Thresholds, pairs slowed by traffic shaping, and rates per recipient provider.
#[component]
fn HealthSection(h: PoolHealthView) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="health-h">
            <h2 id="health-h">"Pool health"</h2>
            <p data-testid="thresholds">{h.thresholds.clone()}</p>
            <h3>"Slowed by traffic shaping"</h3>
            {if h.slowed.is_empty() {
                view! { <p class="muted">"No pool is slowed for any provider now."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap" tabindex="0" role="region" aria-label="Pairs slowed by traffic shaping (scrolls sideways)"><table>
                        <caption class="sr-only">"Pool and provider pairs slowed by traffic shaping"</caption>
                        <thead><tr><th scope="col">"Pool"</th><th scope="col">"Provider"</th><th scope="col">"How"</th><th scope="col">"Rule"</th><th scope="col">"Reply that set it off"</th></tr></thead>
                        <tbody>
                            {h.slowed.into_iter().map(|s| view! {
                                <tr><td>{s.pool}</td><td>{s.provider}</td><td>{s.how}</td><td><code>{s.rule}</code></td><td>{s.reason}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any()
            }}
            <h3>"By recipient provider"</h3>
            {if h.pairs.is_empty() {
                view! { <p class="muted">"No sends in the last 7 days."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap" tabindex="0" role="region" aria-label="Rates per pool and provider (scrolls sideways)"><table>
                        <caption class="sr-only">"Rolling rates per pool and recipient provider"</caption>
                        <thead><tr><th scope="col">"Pool"</th><th scope="col">"Provider"</th><th scope="col">"Bounces · deferrals · complaints"</th></tr></thead>
                        <tbody>
                            {h.pairs.into_iter().map(|p| view! {
                                <tr><td>{p.pool}</td><td>{p.provider}</td><td><HealthWindows windows=p.windows/></td></tr>
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any()
            }}
        </section>
    }
}

/// The complaint rate, coloured against 0.1 % (warning) and 0.3 % (critical), with the
/// level in words too (not colour alone).
#[component]
fn ComplaintRate(rate: String, level: String) -> impl IntoView {
    let word = match level.as_str() {
        "critical" => " · critical (≥ 0.3 %)",
        "warning" => " · warning (≥ 0.1 %)",
        _ => "",
    };
    view! { <span class=format!("badge level-{level}")>{rate}{word}</span> }
}

/// `recipient_permanent 3 · transient 1`, or `none`.
fn bounce_summary(bounces: &[(String, i64)]) -> String {
    if bounces.is_empty() {
        return "none".into();
    }
    bounces
        .iter()
        .map(|(class, n)| format!("{} {n}", class.replace('_', " ")))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Add a pool, or change the one named by `?edit=<id>`.
#[component]
fn PoolForm(save: ServerAction<SavePool>, pool: Option<PoolRow>) -> impl IntoView {
    let editing = pool.is_some();
    let p = pool.unwrap_or(PoolRow {
        id: 0,
        name: String::new(),
        role: PoolRole::Backup,
        from: String::new(),
        relay: String::new(),
        enabled: true,
        max_per_second: 50,
        position: 0,
        accepted_7d: 0,
        complaints_7d: 0,
        complaint_rate: String::new(),
        complaint_level: "ok".into(),
        bounces_7d: Vec::new(),
        health_state: "ok".into(),
        health_reason: None,
        relay_down: None,
        from_file: false,
        smtputf8: false,
        health: Vec::new(),
    });
    let (from_name, from_address) = match p.from.rsplit_once(" <") {
        Some((n, a)) => (n.to_string(), a.trim_end_matches('>').to_string()),
        None => (String::new(), p.from.clone()),
    };
    view! {
        <section class="card" aria-labelledby="pool-form-h">
            <h2 id="pool-form-h">{if editing { format!("Change pool {}", p.name) } else { "Add a pool".to_string() }}</h2>
            <ActionStatus value=Signal::derive(move || save.value().get()) success=Signal::derive(|| "Pool saved.".to_string())/>
            <ActionForm action=save attr:class="form-grid">
                {editing.then(|| view! { <input type="hidden" name="pool_id" value=p.id/> })}
                <label for="pool-name">"Name"</label>
                <input id="pool-name" name="name" required maxlength="60" value=p.name.clone()/>
                <label for="pool-role">"Role"</label>
                <select id="pool-role" name="role">
                    {PoolRole::ALL.into_iter().map(|r| view! { <option value=r.as_str() selected=r == p.role>{r.as_str()}</option> }).collect_view()}
                </select>
                <label for="pool-from-name">"From name"</label>
                <input id="pool-from-name" name="from_name" required value=from_name/>
                <label for="pool-from">"From address"</label>
                <input id="pool-from" name="from_address" type="email" required value=from_address/>
                <label for="pool-relay">"Relay URL"</label>
                <input id="pool-relay" name="relay_url" type="text" placeholder="smtp://user:pass@relay.example:587?tls=starttls" aria-describedby="relay-hint"/>
                <p id="relay-hint" class="hint">{if editing {
                    format!("Now {}. Leave empty to keep it (and its password).", p.relay)
                } else {
                    "smtp://, smtps:// or capture:// (development: keep messages in the Outbox).".to_string()
                }}</p>
                <label for="pool-rate">"Max messages per second"</label>
                <input id="pool-rate" name="max_per_second" type="number" min="1" max="10000" required value=p.max_per_second/>
                <label for="pool-position">"Position in the retry chain"</label>
                <input id="pool-position" name="position" type="number" min="0" max="1000" required value=p.position/>
                <button type="submit" class="primary">{if editing { "Save changes" } else { "Add pool" }}</button>
            </ActionForm>
        </section>
    }
}
