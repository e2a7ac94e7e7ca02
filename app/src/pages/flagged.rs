use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::badge::StateBadge;
use crate::components::status::ErrorNotice;
use crate::server_fns::orders::list_flagged;

/// The filter values a page was asked for, as they appear in the URL.
#[derive(Clone, Debug, Default, PartialEq)]
struct Filters {
    network: String,
    state: String,
    provider: String,
    reached: String,
    min_score: String,
    sort: String,
    after: String,
}

impl Filters {
    /// The query string of the same filters (without the cursor).
    fn query(&self) -> String {
        let pairs = [
            ("network", &self.network),
            ("state", &self.state),
            ("provider", &self.provider),
            ("reached", &self.reached),
            ("min_score", &self.min_score),
            ("sort", &self.sort),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn opt(v: String) -> Option<String> {
    (!v.is_empty()).then_some(v)
}

/// One `<select>` of the filter form, keeping the current choice.
#[component]
fn FilterSelect(
    id: &'static str,
    label: &'static str,
    current: String,
    options: &'static [(&'static str, &'static str)],
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <select id=id name=id>
            {options.iter().map(|(value, text)| {
                let selected = current == *value;
                view! { <option value=*value selected=selected>{*text}</option> }
            }).collect_view()}
        </select>
    }
}

/// Orders placed from VPNs, datacenters and Tor (agents and managers): the
/// network, the risk score, the recipient's provider, where the receipt
/// stands and whether it reached the customer. A GET form, so filters and
/// pages work with JavaScript off; pages are keyset cursors.
#[component]
pub fn FlaggedPage() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        Filters {
            network: get("network"),
            state: get("state"),
            provider: get("provider"),
            reached: get("reached"),
            min_score: get("min_score"),
            sort: get("sort"),
            after: get("after"),
        }
    };
    let page = crate::resource::resource(filters, |f| {
        list_flagged(
            opt(f.network),
            opt(f.state),
            opt(f.provider),
            opt(f.reached),
            opt(f.min_score),
            opt(f.sort),
            opt(f.after),
        )
    });
    view! {
        <Title text="VPN-flagged orders · Rebound"/>
        <h1>"VPN-flagged orders"</h1>
        <p class="muted">"Orders whose client IP belongs to a VPN, a datacenter or a Tor exit, with the email-health risk scored at intake."</p>
        {move || {
            let f = filters();
            view! {
                <form method="get" action="/flagged" class="filters">
                    <FilterSelect id="network" label="Network" current=f.network.clone()
                        options=&[("", "Any flagged"), ("vpn", "VPN"), ("datacenter", "Datacenter"), ("tor", "Tor exit")]/>
                    <FilterSelect id="provider" label="Recipient provider" current=f.provider.clone()
                        options=&[("", "Any"), ("gmail", "Gmail"), ("yahoo", "Yahoo"), ("microsoft", "Microsoft"), ("other", "Other")]/>
                    <FilterSelect id="state" label="Receipt" current=f.state.clone()
                        options=&[("", "Any"), ("queued", "Queued"), ("sending", "Sending"), ("retry_scheduled", "Retry scheduled"), ("accepted", "Accepted"), ("held", "Held")]/>
                    <FilterSelect id="reached" label="Reached" current=f.reached.clone()
                        options=&[("", "Any"), ("yes", "Reached"), ("no", "Not yet")]/>
                    <label for="min_score">"Minimum risk"</label>
                    <input id="min_score" name="min_score" type="number" min="0" max="100" inputmode="numeric" value=f.min_score.clone()/>
                    <FilterSelect id="sort" label="Sort" current=f.sort.clone()
                        options=&[("", "Newest first"), ("risk", "Highest risk first")]/>
                    <button type="submit">"Filter"</button>
                </form>
            }
        }}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let f = filters();
                match page.await {
                    Ok(p) if p.rows.is_empty() => view! {
                        <p class="muted">"No flagged orders match."</p>
                    }.into_any(),
                    Ok(p) => view! {
                        <div class="table-wrap">
                            <table>
                                <caption class="sr-only">"Flagged orders"</caption>
                                <thead><tr>
                                    <th scope="col">"Order"</th><th scope="col">"Placed"</th><th scope="col">"Customer"</th>
                                    <th scope="col">"Network"</th><th scope="col">"Risk"</th><th scope="col">"Provider"</th>
                                    <th scope="col">"Receipt"</th><th scope="col">"Reached"</th>
                                </tr></thead>
                                <tbody>
                                    {p.rows.into_iter().map(|o| view! {
                                        <tr>
                                            <td><a href=format!("/orders/{}", o.order_number)>{o.order_number.clone()}</a></td>
                                            <td class="nowrap">{o.placed_at}</td>
                                            <td class="email">{o.customer_email}</td>
                                            <td>{o.network_label}</td>
                                            <td class="num">{o.risk_score.map(|s| s.to_string()).unwrap_or_else(|| "–".into())}</td>
                                            <td>{o.provider}</td>
                                            <td><StateBadge state=o.state/></td>
                                            <td>{o.reached_via.map(|v| format!("yes ({})", v.replace('_', " "))).unwrap_or_else(|| "not yet".into())}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        {p.next.map(|c| {
                            let q = f.query();
                            let sep = if q.is_empty() { "" } else { "&" };
                            view! { <p><a href=format!("/flagged?{q}{sep}after={c}")>"More orders →"</a></p> }
                        })}
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}
