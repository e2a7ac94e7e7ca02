//! The order page's actions: how to reach the customer (phone first when the
//! e-mail address is dead), the case buttons, the links that open the
//! receipt now, and the confirmation "Regenerate" asks for, which lists the
//! links it would revoke and whom they went to. Managers see the same facts
//! without buttons.

use leptos::prelude::*;

use crate::error::AppError;

use crate::server_fns::support::{
    Done, EmailLink, LogCall, OrderCase, RegenerateLink, ResolveCase, SendSmsLink, StartCall,
    TakeCase,
};

/// The order page's actions (all answer with a [`Done`]).
#[derive(Clone, Copy)]
pub struct OrderActions {
    pub take: ServerAction<TakeCase>,
    pub sms: ServerAction<SendSmsLink>,
    pub call: ServerAction<StartCall>,
    pub log: ServerAction<LogCall>,
    pub email: ServerAction<EmailLink>,
    pub regen: ServerAction<RegenerateLink>,
    pub resolve: ServerAction<ResolveCase>,
}

impl OrderActions {
    pub fn new() -> Self {
        OrderActions {
            take: ServerAction::new(),
            sms: ServerAction::new(),
            call: ServerAction::new(),
            log: ServerAction::new(),
            email: ServerAction::new(),
            regen: ServerAction::new(),
            resolve: ServerAction::new(),
        }
    }

    /// Changes whenever any action finishes (the page refetches).
    pub fn version(&self) -> [usize; 7] {
        [
            self.take.version().get(),
            self.sms.version().get(),
            self.call.version().get(),
            self.log.version().get(),
            self.email.version().get(),
            self.regen.version().get(),
            self.resolve.version().get(),
        ]
    }

    /// Every action's latest answer.
    pub fn values(&self) -> Vec<Option<Result<Done, AppError>>> {
        vec![
            self.take.value().get(),
            self.sms.value().get(),
            self.call.value().get(),
            self.log.value().get(),
            self.email.value().get(),
            self.regen.value().get(),
            self.resolve.value().get(),
        ]
    }

    /// A signal holding the latest answer of any of them (one notice).
    pub fn notice(&self) -> RwSignal<Option<Result<Done, AppError>>> {
        let notice = RwSignal::new(None);
        macro_rules! follow {
            ($($action:ident),*) => {$(
                let action = self.$action;
                Effect::new(move |_| {
                    if let Some(v) = action.value().get() {
                        notice.set(Some(v));
                    }
                });
            )*};
        }
        follow!(take, sms, call, log, email, regen, resolve);
        notice
    }
}

impl Default for OrderActions {
    fn default() -> Self {
        Self::new()
    }
}

/// "Reach the customer": the case, the channels, the live links.
#[component]
pub fn ReachCard(c: OrderCase, acts: OrderActions) -> impl IntoView {
    let number = StoredValue::new(c.order_number.clone());
    let h = move || view! { <input type="hidden" name="order_number" value=number.get_value()/> };
    let case = c.case.clone().map(|case| {
        let taken = case
            .working_by
            .clone()
            .map_or_else(|| "nobody has taken it yet".to_string(), |w| format!("taken by {w}"));
        view! {
            <p class="case-line">
                <span class=format!("badge priority-{}", if case.priority == "critical" { 1 } else { 2 })>{case.priority.clone()}</span>
                " "{format!("Needs an agent: {}. {}, {}.", case.reason, capitalise(&case.sla), taken)}
            </p>
        }
    });
    let buttons = c.can_act.then(|| {
        let phone = c.phone.clone().map(|p| {
            view! {
                <ActionForm action=acts.sms attr:class="inline">
                    {h()}
                    <button type="submit" class="small">"Text a fresh link"</button>
                </ActionForm>
                <ActionForm action=acts.call attr:class="inline">
                    {h()}
                    <button type="submit" class="small">"Call (then text the link)"</button>
                </ActionForm>
                <span class="muted">{format!("to {p}")}</span>
            }
        });
        let email = match &c.email_dead {
            None => view! {
                <ActionForm action=acts.email attr:class="inline">
                    {h()}
                    <button type="submit" class="small">"E-mail a fresh link"</button>
                </ActionForm>
                <a class="button small" href=format!("/orders/{}?confirm=regenerate#regenerate", c.order_number)>"Regenerate link…"</a>
            }
            .into_any(),
            Some(why) => view! {
                <p class="notice warn" role="note">{format!(
                    "No e-mail: {why}. {}",
                    if c.phone.is_some() { "Reach the customer by phone." } else { "There is no phone on the order either." }
                )}</p>
            }
            .into_any(),
        };
        let case_forms = c.case.is_some().then(|| {
            view! {
                <div class="action-row">
                    <ActionForm action=acts.take attr:class="inline">
                        {h()}
                        <button type="submit" class="small">"I'm on it"</button>
                    </ActionForm>
                    <ActionForm action=acts.log attr:class="inline">
                        {h()}
                        <label for="order-outcome">"Call outcome"</label>
                        <select id="order-outcome" name="outcome">
                            <option value="reached">"Reached"</option>
                            <option value="no_answer">"No answer"</option>
                            <option value="wrong_number">"Wrong number"</option>
                        </select>
                        <button type="submit" class="small">"Log call"</button>
                    </ActionForm>
                    <ActionForm action=acts.resolve attr:class="inline">
                        {h()}
                        <label for="order-note">"Note"</label>
                        <input id="order-note" name="note" type="text" required maxlength="2000"/>
                        <button type="submit" class="small primary">"Resolve"</button>
                    </ActionForm>
                </div>
            }
        });
        view! {
            <div class="held-actions">
                <div class="action-row">{phone}{email}</div>
                {case_forms}
            </div>
        }
    });
    let read_only = (!c.can_act).then(|| {
        view! { <p class="muted">"Support agents act on this order; you can read what was done."</p> }
    });
    view! {
        <section class="card" aria-labelledby="reach-h">
            <h2 id="reach-h">"Reach the customer"</h2>
            {case}
            {buttons}
            {read_only}
            <LiveLinks c/>
        </section>
    }
}

/// The links that open the receipt now, and whom they went to.
#[component]
fn LiveLinks(c: OrderCase) -> impl IntoView {
    if c.live_links.is_empty() {
        return view! { <p class="muted" data-testid="live-links">"No link opens the receipt now."</p> }.into_any();
    }
    view! {
        <h3>"Links that open the receipt now"</h3>
        <ul class="live-links" data-testid="live-links">
            {c.live_links.into_iter().map(|l| view! {
                <li>{format!("Link #{}: {}, {}; valid until {}.", l.id, l.how, l.issued_at, l.expires_at)}</li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// "Regenerate the link?": what it would revoke and where the fresh link
/// goes; never to a dead address (the phone is offered instead).
#[component]
pub fn RegenerateConfirm(c: OrderCase, acts: OrderActions) -> impl IntoView {
    let n = c.order_number.clone();
    let cancel = format!("/orders/{n}");
    let live = c.live_links.len();
    let text_instead = c.phone.is_some().then(|| {
        let n = n.clone();
        view! {
            <ActionForm action=acts.sms attr:class="inline">
                <input type="hidden" name="order_number" value=n/>
                <button type="submit" class="small">"Text a fresh link instead (earlier links keep working)"</button>
            </ActionForm>
        }
    });
    let body = match (&c.email_dead, c.can_act) {
        (_, false) => view! { <p>"Support agents regenerate links; you can read the links below."</p> }.into_any(),
        (Some(why), true) => view! {
            <p class="notice warn" role="note">{format!(
                "No link is e-mailed to this order: {why}. {}",
                if c.phone.is_some() { "Send it by phone instead:" } else { "There is no phone on the order either." }
            )}</p>
            // Further channels (WhatsApp) go beside the text button.
            <div class="channel-choices">{text_instead}</div>
            <p><a href=cancel.clone()>"Back to the order"</a></p>
        }
        .into_any(),
        (None, true) => view! {
            <p>{match live {
                0 => "No link opens the receipt now, so nothing is revoked.".to_string(),
                1 => "This revokes the link that opens the receipt now. Whoever holds it sees “link expired” and can ask for a fresh one:".to_string(),
                k => format!("This revokes the {k} links that open the receipt now. Whoever holds one sees “link expired” and can ask for a fresh one:"),
            }}</p>
            {(live > 0).then(|| view! {
                <ul class="live-links">
                    {c.live_links.iter().map(|l| view! { <li>{format!("Link #{}: {}, {}.", l.id, l.how, l.issued_at)}</li> }).collect_view()}
                </ul>
            })}
            <p>{format!("A fresh link then goes by e-mail to {} through the masked sender.", c.email)}</p>
            <div class="action-row">
                <ActionForm action=acts.regen attr:class="inline">
                    <input type="hidden" name="order_number" value=n.clone()/>
                    <input type="hidden" name="confirm" value="yes"/>
                    <button type="submit" class="small primary">{match live {
                        0 => "E-mail a fresh link".to_string(),
                        1 => "Revoke 1 link and e-mail a fresh one".to_string(),
                        k => format!("Revoke {k} links and e-mail a fresh one"),
                    }}</button>
                </ActionForm>
                <div class="channel-choices">{text_instead}</div>
                <a href=cancel.clone()>"Cancel"</a>
            </div>
        }
        .into_any(),
    };
    view! {
        <section id="regenerate" class="card confirm" aria-labelledby="regen-h">
            <h2 id="regen-h">"Regenerate the secure link?"</h2>
            {body}
        </section>
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
