//! The held queue: orders email could not reach, most urgent first, with the
//! SLA clock and what the automatic fallback already did. Agents act per row
//! or on several selected rows at once. The list refreshes after every action
//! and, while the page is open, every few seconds (so an agent sees what
//! colleagues took or resolved), without a page reload; it holds still while
//! the agent is typing in one of its fields.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::{ActionStatus, ErrorNotice};
use crate::server_fns::support::{
    BulkHeld, LogCall, MAX_BULK, QUEUE_LIMIT, RegenerateLink, ResendViaPool, ResolveCase,
    SendSmsLink, StartCall, TakeCase, list_held, list_resend_pools,
};
use crate::types::{BulkOutcome, HeldRow, PoolChoice};

/// How often an open held queue asks for the latest rows.
pub const LIVE_REFRESH_SECS: u64 = 10;

/// The row actions, handed to every row.
#[derive(Clone, Copy)]
struct Actions {
    take: ServerAction<TakeCase>,
    sms: ServerAction<SendSmsLink>,
    call: ServerAction<StartCall>,
    log: ServerAction<LogCall>,
    regen: ServerAction<RegenerateLink>,
    resend: ServerAction<ResendViaPool>,
    resolve: ServerAction<ResolveCase>,
}

#[component]
pub fn HeldPage() -> impl IntoView {
    let a = Actions {
        take: ServerAction::<TakeCase>::new(),
        sms: ServerAction::<SendSmsLink>::new(),
        call: ServerAction::<StartCall>::new(),
        log: ServerAction::<LogCall>::new(),
        regen: ServerAction::<RegenerateLink>::new(),
        resend: ServerAction::<ResendViaPool>::new(),
        resolve: ServerAction::<ResolveCase>::new(),
    };
    let bulk = ServerAction::<BulkHeld>::new();
    // Live updates: a tick every few seconds refetches the rows, skipped while
    // the agent is typing in a field or has a list open (a redraw would throw
    // the half-typed note or the open choice away).
    let tick = RwSignal::new(0_u64);
    #[cfg(feature = "hydrate")]
    {
        fn editing() -> bool {
            let Some(el) = document().active_element() else {
                return false;
            };
            match el.tag_name().as_str() {
                "TEXTAREA" | "SELECT" => true,
                "INPUT" => !matches!(
                    el.get_attribute("type").as_deref(),
                    Some("checkbox" | "hidden" | "submit" | "button")
                ),
                _ => false,
            }
        }
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if !editing() {
                    tick.update(|t| *t += 1);
                }
            },
            std::time::Duration::from_secs(LIVE_REFRESH_SECS),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    let rows = crate::resource::resource(
        move || {
            (
                tick.get(),
                a.take.version().get(),
                a.sms.version().get(),
                a.call.version().get(),
                a.log.version().get(),
                a.regen.version().get(),
                a.resend.version().get(),
                a.resolve.version().get(),
                bulk.version().get(),
            )
        },
        |_| list_held(),
    );
    let pools = crate::resource::resource(|| (), |_| list_resend_pools());
    // The selection survives the live refreshes (rows are redrawn, this is not).
    let selected = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| {
        if let Some(Ok(_)) = bulk.value().get() {
            selected.set(Vec::new());
        }
    });
    view! {
        <Title text="Held queue · Rebound"/>
        <h1>"Held queue"</h1>
        <p class="muted">
            "Receipts email could not deliver and the automatic fallback could not settle. Most urgent first. "
            {format!("This list updates itself every {LIVE_REFRESH_SECS} seconds while it is open")}
            <noscript>" (with JavaScript off, "<a href="/held">"reload it"</a>")"</noscript>"."
        </p>
        <ActionStatus value=Signal::derive(move || a.take.value().get()) success=Signal::derive(|| "You are on it.".to_string())/>
        <ActionStatus value=Signal::derive(move || a.sms.value().get()) success=Signal::derive(|| "A fresh link was texted to the customer.".to_string())/>
        <ActionStatus value=Signal::derive(move || a.call.value().get()) success=Signal::derive(|| "The call was started.".to_string())/>
        <ActionStatus value=Signal::derive(move || a.log.value().get()) success=Signal::derive(|| "Call outcome logged.".to_string())/>
        <ActionStatus value=Signal::derive(move || a.regen.value().get()) success=Signal::derive(|| "Earlier links revoked; a fresh link is on its way to the order's email.".to_string())/>
        <ActionStatus value=Signal::derive(move || a.resend.value().get()) success=Signal::derive(|| "A fresh link is on its way through the pool you chose.".to_string())/>
        <ActionStatus value=Signal::derive(move || a.resolve.value().get()) success=Signal::derive(|| "Resolved.".to_string())/>
        {move || match bulk.value().get() {
            Some(Ok(out)) => view! { <BulkReport out/> }.into_any(),
            Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
            None => ().into_any(),
        }}
        <ActionForm action=bulk attr:id="bulk-form" attr:class="card bulk-bar">
            <fieldset>
                <legend>"Selected orders"</legend>
                <p class="muted">{move || match selected.with(Vec::len) {
                    0 => format!("Tick orders below (up to {MAX_BULK}), then choose what to do with all of them."),
                    1 => "1 order selected.".to_string(),
                    n => format!("{n} orders selected."),
                }}</p>
                <label for="bulk-action">"Action"</label>
                <select id="bulk-action" name="action">
                    <option value="take">"I'm on them"</option>
                    <option value="regenerate">"Regenerate links (email)"</option>
                    <option value="resolve">"Resolve with note"</option>
                </select>
                <label for="bulk-note">"Note (for resolve)"</label>
                <input id="bulk-note" name="note" type="text" maxlength="2000"/>
                <button type="submit" class="small">"Apply to selected"</button>
            </fieldset>
        </ActionForm>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let pools = pools.await.unwrap_or_default();
                match rows.await {
                    Ok(list) if list.is_empty() => view! { <p class="notice ok" role="status">"Nothing is held. Every customer has a way to their receipt."</p> }.into_any(),
                    Ok(list) => view! {
                        {(list.len() >= QUEUE_LIMIT).then(|| view! {
                            <p class="notice" role="note">{format!(
                                "Showing the {QUEUE_LIMIT} most urgent open cases; the Overview counts them all. Resolved cases make room for the next."
                            )}</p>
                        })}
                        <ul class="held-list">
                            {list.into_iter().enumerate().map(|(i, r)| view! { <HeldItem i r a pools=pools.clone() selected/> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// What a bulk action did: a count, and each order it could not do with why.
#[component]
fn BulkReport(out: BulkOutcome) -> impl IntoView {
    let done = match out.done.len() {
        1 => format!("1 order {}.", out.action),
        n => format!("{n} orders {}.", out.action),
    };
    let failed = (!out.failed.is_empty()).then(|| {
        view! {
            <div class="notice error" role="alert">
                <p>{format!("{} could not be done:", out.failed.len())}</p>
                <ul>{out.failed.into_iter().map(|(n, why)| view! { <li>{format!("{n}: {why}")}</li> }).collect_view()}</ul>
            </div>
        }
    });
    view! {
        <p class="notice ok" role="status">{done}</p>
        {failed}
    }
}

#[component]
fn HeldItem(
    i: usize,
    r: HeldRow,
    a: Actions,
    pools: Vec<PoolChoice>,
    selected: RwSignal<Vec<String>>,
) -> impl IntoView {
    let n = r.order_number.clone();
    let heading_id = format!("held-{}", n);
    let labelled_by = heading_id.clone();
    let href = format!("/orders/{n}");
    let title = format!("Order {n}");
    let Actions {
        take,
        sms,
        call,
        log,
        regen,
        resend,
        resolve,
    } = a;
    let [
        n_take,
        n_sms,
        n_call,
        n_regen,
        n_log,
        n_resolve,
        n_resend,
        n_check,
    ] = std::array::from_fn(|_| n.clone());
    let check_id = format!("select-{n}");
    let pool_id = format!("pool-{n}");
    let is_selected = {
        let n = n.clone();
        move || selected.with(|s| s.contains(&n))
    };
    let toggle = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        selected.update(|s| {
            s.retain(|x| *x != n_check);
            if on {
                s.push(n_check.clone());
            }
        });
    };
    let phone_actions = r.has_phone.then(move || {
        view! {
            <ActionForm action=sms attr:class="inline">
                <input type="hidden" name="order_number" value=n_sms/>
                <button type="submit" class="small">"Text a fresh link"</button>
            </ActionForm>
            <ActionForm action=call attr:class="inline">
                <input type="hidden" name="order_number" value=n_call/>
                <button type="submit" class="small">"Call"</button>
            </ActionForm>
        }
    });
    // Re-send a fresh link through a pool the agent picks (when any is enabled).
    let resend_form = (!pools.is_empty()).then(move || {
        view! {
                    <ActionForm action=resend attr:class="inline">
                        <input type="hidden" name="order_number" value=n_resend/>
                        <label for=pool_id.clone()>"Re-send via"</label>
                        <select id=pool_id name="pool_id">
                            {pools.into_iter().map(|p| view! { <option value=p.id.to_string()>{format!("{} ({})", p.name, p.role)}</option> }).collect_view()}
                        </select>
                        <button type="submit" class="small">"Re-send link"</button>
                    </ActionForm>
        }
    });
    let note_id = format!("note-{}", n);
    let outcome_id = format!("outcome-{}", n);
    let priority = if r.priority <= 1 {
        "critical"
    } else {
        "high value"
    };
    view! {
        <li class="card held-item" aria-labelledby=labelled_by>
            <div class="held-head">
            // In the bulk form (by its id), though drawn here in the row.
            <input type="checkbox" id=check_id.clone() form="bulk-form" name=format!("order_numbers[{i}]")
                value=n.clone() prop:checked=is_selected on:change=toggle/>
            <label for=check_id class="sr-only">{format!("Select order {n}")}</label>
            <h2 id=heading_id class="held-title">
                <a href=href>{title}</a>
                " "<span class=format!("badge priority-{}", r.priority)>{priority}</span>
                {r.reached.then(|| view! { <span class="badge state-accepted">"reached"</span> })}
            </h2>
            </div>
            <dl class="facts">
                <dt>"Why"</dt><dd>{r.reason.clone()}</dd>
                <dt>"Fallback so far"</dt><dd>{if r.fallback.is_empty() { "—".to_string() } else { r.fallback.clone() }}</dd>
                <dt>"Customer"</dt><dd>{format!("{} ({})", r.customer_email, r.account_kind.replace('_', " "))}</dd>
                <dt>"Total"</dt><dd>{r.total.clone()}</dd>
                <dt>"Age"</dt><dd>{r.age.clone()}</dd>
                <dt>"SLA"</dt><dd class:overdue=r.overdue>{r.sla.clone()}</dd>
                <dt>"Working"</dt><dd>{r.working_by.clone().unwrap_or_else(|| "nobody yet".into())}</dd>
            </dl>
            <div class="held-actions">
                <ActionForm action=take attr:class="inline">
                    <input type="hidden" name="order_number" value=n_take/>
                    <button type="submit" class="small">"I'm on it"</button>
                </ActionForm>
                {phone_actions}
                <ActionForm action=regen attr:class="inline">
                    <input type="hidden" name="order_number" value=n_regen/>
                    <button type="submit" class="small">"Regenerate link"</button>
                </ActionForm>
                {resend_form}
                <ActionForm action=log attr:class="inline">
                    <input type="hidden" name="order_number" value=n_log/>
                    <label for=outcome_id.clone()>"Call outcome"</label>
                    <select id=outcome_id name="outcome">
                        <option value="reached">"Reached"</option>
                        <option value="no_answer">"No answer"</option>
                        <option value="wrong_number">"Wrong number"</option>
                    </select>
                    <button type="submit" class="small">"Log call"</button>
                </ActionForm>
                <ActionForm action=resolve attr:class="inline">
                    <input type="hidden" name="order_number" value=n_resolve/>
                    <label for=note_id.clone()>"Note"</label>
                    <input id=note_id name="note" type="text" required maxlength="2000"/>
                    <button type="submit" class="small primary">"Resolve"</button>
                </ActionForm>
            </div>
        </li>
    }
}
