use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::ErrorNotice;
use leptos_router::hooks::use_query_map;

use crate::server_fns::outbox::{get_captured, list_captured_sms, list_outbox};

/// Messages kept by the development capture transport (nothing was sent).
#[component]
pub fn OutboxPage() -> impl IntoView {
    let query = use_query_map();
    let selected = move || query.read().get("id").and_then(|v| v.parse::<i64>().ok());
    let list = crate::resource::resource(|| (), |_| list_outbox());
    let texts = crate::resource::resource(|| (), |_| list_captured_sms());
    let message = crate::resource::resource(selected, |id| async move {
        match id {
            Some(id) => get_captured(id).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <Title text="Outbox · Rebound"/>
        <h1>"Outbox"</h1>
        <p class="notice warn">"Development capture: pools with the relay "<code>"capture://"</code>
            " keep messages here instead of sending them. Configure a real SMTP relay on the pool for production."</p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match message.await {
                    Ok(Some(m)) => view! {
                        <section class="card" aria-labelledby="msg-h">
                            <h2 id="msg-h">{m.row.subject.clone()}</h2>
                            <dl class="facts">
                                <dt>"To"</dt><dd>{m.row.to.clone()}</dd>
                                <dt>"Envelope from"</dt><dd><code>{m.envelope_from.clone()}</code></dd>
                                <dt>"Message-ID"</dt><dd><code>{m.message_id.clone()}</code></dd>
                                <dt>"Pool"</dt><dd>{m.row.pool.clone()}</dd>
                            </dl>
                            <h3>"HTML"</h3>
                            {m.html.clone().map(|h| view! {
                                // Sandboxed: the message's HTML can run nothing and reach nothing.
                                <iframe class="mail-preview" title="Rendered HTML part" sandbox="" srcdoc=h></iframe>
                            })}
                            <h3>"Text"</h3>
                            <pre class="mail-text">{m.text.clone().unwrap_or_default()}</pre>
                            <details><summary>"Headers"</summary>
                                <table><tbody>{m.headers.clone().into_iter().map(|(k, v)| view! { <tr><th scope="row">{k}</th><td><code>{v}</code></td></tr> }).collect_view()}</tbody></table>
                            </details>
                            <details><summary>"Raw source"</summary><pre class="mail-text">{m.raw.clone()}</pre></details>
                        </section>
                    }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
            {move || Suspend::new(async move {
                match list.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="muted">"Nothing captured yet."</p> }.into_any(),
                    Ok(rows) => view! {
                        <div class="table-wrap">
                            <table>
                                <caption class="sr-only">"Captured messages"</caption>
                                <thead><tr><th scope="col">"When"</th><th scope="col">"To"</th><th scope="col">"Subject"</th><th scope="col">"Pool"</th></tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|r| view! {
                                        <tr>
                                            <td class="nowrap">{r.created_at}</td><td>{r.to}</td>
                                            <td><a href=format!("/admin/outbox?id={}", r.id)>{r.subject}</a></td><td>{r.pool}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
            <h2 id="sms-h">"SMS, WhatsApp and calls"</h2>
            <p class="muted">"With "<code>"sms.provider = \"capture\""</code>" text messages and calls, and with "
                <code>"whatsapp.provider = \"capture\""</code>" WhatsApp messages, are kept here instead of going to Twilio."</p>
            {move || Suspend::new(async move {
                match texts.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="muted">"No SMS, WhatsApp messages or calls captured yet."</p> }.into_any(),
                    Ok(rows) => view! {
                        <div class="table-wrap">
                            <table aria-labelledby="sms-h">
                                <thead><tr>
                                    <th scope="col">"When"</th><th scope="col">"Channel"</th><th scope="col">"To"</th>
                                    <th scope="col">"Message"</th><th scope="col">"Order"</th><th scope="col">"Requested by"</th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|r| view! {
                                        <tr>
                                            <td class="nowrap">{r.created_at}</td>
                                            <td class=format!("channel channel-{}", channel_class(&r.kind))>{channel_label(&r.kind)}</td>
                                            <td class="nowrap">{r.to}</td>
                                            <td><pre class="mail-text">{r.body}</pre></td>
                                            <td>{r.order_number.map(|n| view! { <a href=format!("/orders/{n}")>{n.clone()}</a> })}</td>
                                            <td>{r.requested_by}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The channel of a captured message as people name it.
fn channel_label(kind: &str) -> &'static str {
    match kind {
        "call" => "Call",
        "whatsapp" => "WhatsApp",
        _ => "SMS",
    }
}

/// The CSS class suffix of a channel (a fixed set, never the raw value).
fn channel_class(kind: &str) -> &'static str {
    match kind {
        "call" => "call",
        "whatsapp" => "whatsapp",
        _ => "sms",
    }
}
