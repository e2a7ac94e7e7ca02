//! The held queue: the cases needing an agent, most urgent first, with the SLA
//! clock and what the automatic fallback already did. (An order is *held*
//! when email could not deliver its receipt; the fallback settles most held
//! orders by itself, and only the ones it cannot become cases here.) Agents
//! act per row or on several selected rows at once; managers read the queue
//! without action buttons. Each action answers with one notice naming the
//! order(s), also after a plain form post (the redirect carries it). The list
//! refreshes after every action and, while the page is open, every few
//! seconds, holding still while the agent is typing in one of its fields.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::status::ErrorNotice;
use crate::error::AppError;
use crate::server_fns::auth::current_user;
use crate::server_fns::support::{
    BulkHeld, Done, EmailLink, Level, LogCall, MAX_BULK, QUEUE_LIMIT, ResendViaPool, ResolveCase,
    SendSmsLink, SendWhatsappLink, StartCall, TakeCase, list_held, list_resend_pools,
};
use crate::types::{HeldRow, PoolChoice, Role};

/// How often an open held queue asks for the latest rows.
pub const LIVE_REFRESH_SECS: u64 = 10;

/// The row actions, handed to every row.
#[derive(Clone, Copy)]
struct Actions {
    take: ServerAction<TakeCase>,
    sms: ServerAction<SendSmsLink>,
    whatsapp: ServerAction<SendWhatsappLink>,
    call: ServerAction<StartCall>,
    log: ServerAction<LogCall>,
    email: ServerAction<EmailLink>,
    resend: ServerAction<ResendViaPool>,
    resolve: ServerAction<ResolveCase>,
    bulk: ServerAction<BulkHeld>,
}

impl Actions {
    fn new() -> Self {
        Actions {
            take: ServerAction::new(),
            sms: ServerAction::new(),
            whatsapp: ServerAction::new(),
            call: ServerAction::new(),
            log: ServerAction::new(),
            email: ServerAction::new(),
            resend: ServerAction::new(),
            resolve: ServerAction::new(),
            bulk: ServerAction::new(),
        }
    }

    /// Changes whenever any action finishes (the list refetches).
    fn version(&self) -> [usize; 9] {
        [
            self.take.version().get(),
            self.sms.version().get(),
            self.whatsapp.version().get(),
            self.call.version().get(),
            self.log.version().get(),
            self.email.version().get(),
            self.resend.version().get(),
            self.resolve.version().get(),
            self.bulk.version().get(),
        ]
    }

    /// Every action's latest answer (the server's render shows a refused
    /// plain form post's error from here).
    fn values(&self) -> Vec<Option<Result<Done, AppError>>> {
        vec![
            self.take.value().get(),
            self.sms.value().get(),
            self.whatsapp.value().get(),
            self.call.value().get(),
            self.log.value().get(),
            self.email.value().get(),
            self.resend.value().get(),
            self.resolve.value().get(),
            self.bulk.value().get(),
        ]
    }
}

#[component]
pub fn HeldPage() -> impl IntoView {
    let user = crate::resource::resource(|| (), |_| current_user());
    view! {
        <Title text="Held queue · Rebound"/>
        <h1>"Held queue: cases needing an agent"</h1>
        <p class="muted lede">
            "An order is held when email could not deliver its receipt. The automatic fallback (a secure link through the masked sender, a text, an account notification) settles most held orders by itself; the ones it cannot settle are the cases below. Most urgent first. "
            {format!("The list updates itself every {LIVE_REFRESH_SECS} seconds while it is open")}
            <noscript>" (with JavaScript off, "<a href="/held">"reload it"</a>")"</noscript>"."
        </p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            // A `Suspend`, not a closure: the server walks a closure once per
            // pass, which would build the queue (and its resources) each time.
            {Suspend::new(async move {
                let can_act = matches!(user.await, Ok(Some(u)) if u.role != Role::Manager);
                view! { <HeldQueue can_act/> }
            })}
        </Suspense>
    }
}

/// The notice, the bulk bar (agents) and the cases.
#[component]
fn HeldQueue(can_act: bool) -> impl IntoView {
    let a = Actions::new();
    // One notice: the latest action's answer replaces the one before.
    let notice = RwSignal::new(None::<Result<Done, AppError>>);
    macro_rules! follow {
        ($($action:ident),*) => {$(
            let action = a.$action;
            Effect::new(move |_| {
                if let Some(v) = action.value().get() {
                    notice.set(Some(v));
                }
            });
        )*};
    }
    follow!(take, sms, whatsapp, call, log, email, resend, resolve, bulk);
    let query = use_query_map();
    let shown = move || {
        notice
            .get()
            .or_else(|| a.values().into_iter().flatten().next())
            .or_else(|| {
                query.with(|q| {
                    Done::from_query(q.get("done"), q.get("orders"), q.get("failed")).map(Ok)
                })
            })
    };
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
    let rows = crate::resource::resource(move || (tick.get(), a.version()), |_| list_held());
    // Managers may not re-send: their page does not ask for the pools.
    let pools = crate::resource::resource(
        move || can_act,
        |act| async move {
            if act {
                list_resend_pools().await.unwrap_or_default()
            } else {
                Vec::new()
            }
        },
    );
    // The selection survives the live refreshes (rows are redrawn, this is not).
    let selected = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| {
        if let Some(Ok(_)) = a.bulk.value().get() {
            selected.set(Vec::new());
        }
    });
    view! {
        <div class="held-notice">{move || shown().map(|r| match r {
            Ok(done) => view! { <DoneNotice done/> }.into_any(),
            Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
        })}</div>
        {if can_act {
            view! { <BulkBar bulk=a.bulk selected/> }.into_any()
        } else {
            view! {
                <p class="notice info" role="note">"You can read the queue; support agents work the cases (take them, reach the customer, resolve them)."</p>
            }.into_any()
        }}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let pools = pools.await;
                match rows.await {
                    Ok(list) if list.is_empty() => view! { <p class="notice ok" role="status">"No case needs an agent. Every held customer has a way to the receipt."</p> }.into_any(),
                    Ok(list) => view! {
                        <p class="queue-count" data-testid="cases-count">{match list.len() {
                            1 => "1 case needs an agent.".to_string(),
                            n if n >= QUEUE_LIMIT => format!("The {QUEUE_LIMIT} most urgent cases; resolved cases make room for the next."),
                            n => format!("{n} cases need an agent."),
                        }}</p>
                        <ul class="held-list">
                            {list.into_iter().enumerate().map(|(i, r)| view! { <HeldItem i r a pools=pools.clone() selected can_act/> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// One action's answer: green when something was done, amber when nothing
/// was; the orders it could not do, with why, as an alert.
#[component]
pub fn DoneNotice(done: Done) -> impl IntoView {
    let class = match done.level() {
        Level::Ok => "notice ok",
        Level::Nothing => "notice warn",
    };
    let text = done.text();
    let failed = (!done.failed.is_empty()).then(|| {
        view! {
            <div class="notice error" role="alert">
                <p>{match done.failed.len() {
                    1 => "1 order could not be done:".to_string(),
                    n => format!("{n} orders could not be done:"),
                }}</p>
                <ul>{done.failed.into_iter().map(|(n, why)| view! { <li>{format!("{n}: {why}")}</li> }).collect_view()}</ul>
            </div>
        }
    });
    view! {
        <p class=class role="status" data-testid="action-notice">{text}</p>
        {failed}
    }
}

#[component]
fn BulkBar(bulk: ServerAction<BulkHeld>, selected: RwSignal<Vec<String>>) -> impl IntoView {
    view! {
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
                    <option value="email">"E-mail each a fresh link (earlier links keep working)"</option>
                    <option value="resolve">"Resolve with note"</option>
                </select>
                <label for="bulk-note">"Note (for resolve)"</label>
                <input id="bulk-note" name="note" type="text" maxlength="2000"/>
                <button type="submit" class="small">"Apply to selected"</button>
            </fieldset>
        </ActionForm>
    }
}

#[component]
fn HeldItem(
    i: usize,
    r: HeldRow,
    a: Actions,
    pools: Vec<PoolChoice>,
    selected: RwSignal<Vec<String>>,
    can_act: bool,
) -> impl IntoView {
    let n = r.order_number.clone();
    let heading_id = format!("held-{n}");
    let labelled_by = heading_id.clone();
    let priority = if r.priority <= 1 {
        "critical"
    } else {
        "high value"
    };
    let check = can_act.then(|| {
        let check_id = format!("select-{n}");
        let is_selected = {
            let n = n.clone();
            move || selected.with(|s| s.contains(&n))
        };
        let n_check = n.clone();
        let toggle = move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            selected.update(|s| {
                s.retain(|x| *x != n_check);
                if on {
                    s.push(n_check.clone());
                }
            });
        };
        view! {
            // In the bulk form (by its id), though drawn here in the row.
            <input type="checkbox" id=check_id.clone() form="bulk-form" name=format!("order_numbers[{i}]")
                value=n.clone() prop:checked=is_selected on:change=toggle/>
            <label for=check_id class="sr-only">{format!("Select order {n}")}</label>
        }
    });
    let actions = if can_act {
        view! { <RowActions r=r.clone() a pools/> }.into_any()
    } else {
        ().into_any()
    };
    view! {
        <li class="card held-item" aria-labelledby=labelled_by>
            <div class="held-head">
                {check}
                <h2 id=heading_id class="held-title">
                    <a href=format!("/orders/{n}")>{format!("Order {n}")}</a>
                    " "<span class=format!("badge priority-{}", r.priority)>{priority}</span>
                    {r.reached.then(|| view! { <span class="badge state-accepted">"reached"</span> })}
                    {r.email_dead.then(|| view! { <span class="badge state-held">"e-mail dead"</span> })}
                </h2>
            </div>
            <dl class="facts">
                <dt>"Why"</dt><dd>{r.reason.clone()}</dd>
                <dt>"Fallback so far"</dt><dd>{if r.fallback.is_empty() { "—".to_string() } else { r.fallback.clone() }}</dd>
                <dt>"Customer"</dt><dd>{format!("{} ({})", r.customer_email, r.account_kind.replace('_', " "))}</dd>
                <dt>"Total"</dt><dd>{r.total.clone()}</dd>
                <dt>"Age"</dt><dd>{r.age.clone()}</dd>
                <dt>"SLA"</dt><dd class:overdue=r.overdue>{r.sla.clone()}</dd>
                <dt>"Taken by"</dt><dd>{r.working_by.clone().unwrap_or_else(|| "nobody yet".into())}</dd>
            </dl>
            {actions}
        </li>
    }
}

/// An agent's buttons for one case, in the order they are used: take it,
/// reach the customer (phone first when e-mail is dead), then log and resolve.
#[component]
fn RowActions(r: HeldRow, a: Actions, pools: Vec<PoolChoice>) -> impl IntoView {
    // The order number every form of the row posts (a copyable handle, so
    // each form's children can have their own).
    let number = StoredValue::new(r.order_number.clone());
    let h = move || view! { <input type="hidden" name="order_number" value=number.get_value()/> };
    // WhatsApp first: where a customer who opted in reads their messages.
    let whatsapp_action = r.whatsapp.then({
        move || {
            view! {
                <ActionForm action=a.whatsapp attr:class="inline">
                    {h()}
                    <button type="submit" class="small">"Send link on WhatsApp"</button>
                </ActionForm>
            }
        }
    });
    let phone_actions = r.has_phone.then({
        move || {
            view! {
                <ActionForm action=a.sms attr:class="inline">
                    {h()}
                    <button type="submit" class="small">"Text a fresh link"</button>
                </ActionForm>
                <ActionForm action=a.call attr:class="inline">
                    {h()}
                    <button type="submit" class="small">"Call (then text the link)"</button>
                </ActionForm>
            }
        }
    });
    let email_actions = (!r.email_dead).then({
        let n = r.order_number.clone();
        move || {
            view! {
                <ActionForm action=a.email attr:class="inline">
                    {h()}
                    <button type="submit" class="small">"E-mail a fresh link"</button>
                </ActionForm>
                <a class="button small" href=format!("/orders/{n}?confirm=regenerate#regenerate")>"Regenerate link…"</a>
            }
        }
    });
    let dead_hint = (r.email_dead && !r.has_phone).then(|| {
        view! { <p class="hint-line">"The e-mail address is dead and there is no phone: resolve with a note on how the customer was reached."</p> }
    });
    // Re-send a fresh link through a pool the agent picks (when any is enabled).
    let pool_id = format!("pool-{}", r.order_number);
    let resend_form = (!pools.is_empty() && !r.email_dead).then({
        move || {
            view! {
                <ActionForm action=a.resend attr:class="inline">
                    {h()}
                    <label for=pool_id.clone()>"Re-send via"</label>
                    <select id=pool_id name="pool_id">
                        {pools.into_iter().map(|p| view! { <option value=p.id.to_string()>{format!("{} ({})", p.name, p.role)}</option> }).collect_view()}
                    </select>
                    <button type="submit" class="small">"Re-send link"</button>
                </ActionForm>
            }
        }
    });
    let note_id = format!("note-{}", r.order_number);
    let outcome_id = format!("outcome-{}", r.order_number);
    view! {
        <div class="held-actions">
            <div class="action-row">
                <ActionForm action=a.take attr:class="inline">
                    {h()}
                    <button type="submit" class="small">"I'm on it"</button>
                </ActionForm>
                // Channels by phone, then by e-mail (further channels go beside these).
                {whatsapp_action}
                {phone_actions}
                {email_actions}
            </div>
            {dead_hint}
            {resend_form}
            <div class="action-row">
                <ActionForm action=a.log attr:class="inline">
                    {h()}
                    <label for=outcome_id.clone()>"Call outcome"</label>
                    <select id=outcome_id name="outcome">
                        <option value="reached">"Reached"</option>
                        <option value="no_answer">"No answer"</option>
                        <option value="wrong_number">"Wrong number"</option>
                    </select>
                    <button type="submit" class="small">"Log call"</button>
                </ActionForm>
                <ActionForm action=a.resolve attr:class="inline">
                    {h()}
                    <label for=note_id.clone()>"Note"</label>
                    <input id=note_id name="note" type="text" required maxlength="2000"/>
                    <button type="submit" class="small primary">"Resolve"</button>
                </ActionForm>
            </div>
        </div>
    }
}
