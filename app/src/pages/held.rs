//! The held queue: orders email could not reach, most urgent first, with the
//! SLA clock and what the automatic fallback already did. Agents act per row;
//! the list refreshes after every action without a page reload.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::{ActionStatus, ErrorNotice};
use crate::server_fns::support::{
    LogCall, RegenerateLink, ResolveCase, SendSmsLink, StartCall, TakeCase, list_held,
};
use crate::types::HeldRow;

#[component]
pub fn HeldPage() -> impl IntoView {
    let take = ServerAction::<TakeCase>::new();
    let sms = ServerAction::<SendSmsLink>::new();
    let call = ServerAction::<StartCall>::new();
    let log = ServerAction::<LogCall>::new();
    let regen = ServerAction::<RegenerateLink>::new();
    let resolve = ServerAction::<ResolveCase>::new();
    let rows = Resource::new(
        move || {
            (
                take.version().get(),
                sms.version().get(),
                call.version().get(),
                log.version().get(),
                regen.version().get(),
                resolve.version().get(),
            )
        },
        |_| list_held(),
    );
    view! {
        <Title text="Held queue · Rebound"/>
        <h1>"Held queue"</h1>
        <p class="muted">"Receipts email could not deliver and the automatic fallback could not settle. Most urgent first."</p>
        <ActionStatus value=Signal::derive(move || take.value().get()) success=Signal::derive(|| "You are on it.".to_string())/>
        <ActionStatus value=Signal::derive(move || sms.value().get()) success=Signal::derive(|| "A fresh link was texted to the customer.".to_string())/>
        <ActionStatus value=Signal::derive(move || call.value().get()) success=Signal::derive(|| "The call was started.".to_string())/>
        <ActionStatus value=Signal::derive(move || log.value().get()) success=Signal::derive(|| "Call outcome logged.".to_string())/>
        <ActionStatus value=Signal::derive(move || regen.value().get()) success=Signal::derive(|| "Earlier links revoked; a fresh link is on its way to the order's email.".to_string())/>
        <ActionStatus value=Signal::derive(move || resolve.value().get()) success=Signal::derive(|| "Resolved.".to_string())/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Ok(list) if list.is_empty() => view! { <p class="notice ok" role="status">"Nothing is held. Every customer has a way to their receipt."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="held-list">
                            {list.into_iter().map(|r| view! { <HeldItem r take sms call log regen resolve/> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn HeldItem(
    r: HeldRow,
    take: ServerAction<TakeCase>,
    sms: ServerAction<SendSmsLink>,
    call: ServerAction<StartCall>,
    log: ServerAction<LogCall>,
    regen: ServerAction<RegenerateLink>,
    resolve: ServerAction<ResolveCase>,
) -> impl IntoView {
    let n = r.order_number.clone();
    let heading_id = format!("held-{}", n);
    let labelled_by = heading_id.clone();
    let href = format!("/orders/{n}");
    let title = format!("Order {n}");
    let [n_take, n_sms, n_call, n_regen, n_log, n_resolve] = std::array::from_fn(|_| n.clone());
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
    let note_id = format!("note-{}", n);
    let outcome_id = format!("outcome-{}", n);
    let priority = if r.priority <= 1 {
        "critical"
    } else {
        "high value"
    };
    view! {
        <li class="card held-item" aria-labelledby=labelled_by>
            <h2 id=heading_id class="held-title">
                <a href=href>{title}</a>
                " "<span class=format!("badge priority-{}", r.priority)>{priority}</span>
                {r.reached.then(|| view! { <span class="badge state-accepted">"reached"</span> })}
            </h2>
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
