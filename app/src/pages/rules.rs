use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::status::ErrorNotice;

use crate::server_fns::bounces::{RuleRow, list_rules};

/// The bounce classifier's rules and how often each decided in the last 7
/// days. Search and the class / stage filters are a GET form (works with
/// JavaScript off, a filtered view can be linked); each pattern and its
/// example are folded away until asked for.
#[component]
pub fn RulesPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let rules = crate::resource::resource(
        move || (param("q"), param("class"), param("stage")),
        |(q, class, stage)| list_rules(Some(q), Some(class), Some(stage)),
    );
    view! {
        <Title text="Bounce rules · Rebound"/>
        <h1>"Bounce rules"</h1>
        <p class="muted">"Rules are data ("<code>"engine/rules/bounce_rules.toml"</code>"), loaded at start. Precedence: an ESP's own verdict, provider-specific texts, strong status codes, generic texts, status codes, reply codes."</p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match rules.await {
                    Ok(v) => {
                        let (q, class, stage) = (param("q"), param("class"), param("stage"));
                        let filtered = !(q.is_empty() && class.is_empty() && stage.is_empty());
                        let shown = v.rows.len();
                        view! {
                        <form method="get" action="/admin/rules" class="filters card" role="search" aria-label="Filter the rules">
                            <div>
                                <label for="rules-q">"Search"</label>
                                <input type="search" id="rules-q" name="q" value=q.clone()
                                    placeholder="id, reason, text, example" aria-describedby="rules-q-help"/>
                                <p id="rules-q-help" class="detail">"Every word must appear in the rule's id, reason, pattern, example or note."</p>
                            </div>
                            <div>
                                <label for="rules-class">"Class"</label>
                                <select id="rules-class" name="class">
                                    <option value="" selected=class.is_empty()>"Any class"</option>
                                    {v.classes.iter().map(|c| view! {
                                        <option value=c.clone() selected={*c == class}>{c.clone()}</option>
                                    }).collect_view()}
                                </select>
                            </div>
                            <div>
                                <label for="rules-stage">"Stage"</label>
                                <select id="rules-stage" name="stage">
                                    <option value="" selected=stage.is_empty()>"Any stage"</option>
                                    {v.stages.iter().map(|(k, label)| view! {
                                        <option value=k.clone() selected={*k == stage}>{label.clone()}</option>
                                    }).collect_view()}
                                </select>
                            </div>
                            <div class="filter-actions">
                                <button type="submit" class="primary">"Filter"</button>
                                {filtered.then(|| view! { <a href="/admin/rules">"Show all"</a> })}
                            </div>
                        </form>
                        <p role="status" data-testid="rules-count">{
                            if filtered { format!("{shown} of {} rules match.", v.total) } else { format!("{} rules.", v.total) }
                        }</p>
                        <div class="table-wrap" tabindex="0" role="region" aria-label="Bounce rules (scrolls sideways)">
                            <table class="rules">
                                <caption class="sr-only">"Bounce rules"</caption>
                                <thead><tr><th scope="col">"Rule"</th><th scope="col">"Reason"</th><th scope="col">"Class"</th><th scope="col">"Stage"</th><th scope="col">"Matches"</th><th scope="col">"Hits (7 days)"</th></tr></thead>
                                <tbody>
                                    {v.rows.into_iter().map(|r| view! { <Rule r/> }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any() }
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// One rule: its pattern and example folded in a `<details>`.
#[component]
fn Rule(r: RuleRow) -> impl IntoView {
    view! {
        <tr>
            <td><code>{r.id}</code></td>
            <td>{r.reason}</td>
            <td>{r.class}</td>
            <td>{r.stage_label}</td>
            <td class="rule-match">
                <details>
                    <summary>{r.kind}</summary>
                    <code class="wrap">{r.matches}</code>
                    {r.example.map(|e| view! { <p class="detail">"Example: "<q class="example">{e}</q></p> })}
                    {(!r.note.is_empty()).then(|| view! { <p class="detail">{r.note}</p> })}
                </details>
            </td>
            <td>{r.hits_7d}</td>
        </tr>
    }
}
