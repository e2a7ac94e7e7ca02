use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::status::{ActionStatus, ErrorNotice};
use crate::server_fns::users::{AddUser, SetUserDisabled, SetUserRole, list_users};
use crate::types::{Role, UserRow};

/// Staff accounts: add, change role, disable. Admins only. Every action
/// works as a plain form; with JavaScript a role change saves as you pick it.
#[component]
pub fn UsersPage() -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let set_disabled = ServerAction::<SetUserDisabled>::new();
    let users = crate::resource::resource(
        move || {
            (
                add.version().get(),
                set_role.version().get(),
                set_disabled.version().get(),
            )
        },
        |_| list_users(),
    );
    let role_saved = Signal::derive(move || match set_role.value().get() {
        Some(Ok(u)) => format!("{} is now {}.", u.email, u.role.label()),
        _ => String::new(),
    });
    let disabled_saved = Signal::derive(move || match set_disabled.value().get() {
        Some(Ok(u)) if u.disabled => format!("{} is disabled.", u.email),
        Some(Ok(u)) => format!("{} is enabled.", u.email),
        _ => String::new(),
    });
    let added = Signal::derive(move || match add.value().get() {
        Some(Ok(u)) => format!("{} was added as {}.", u.email, u.role.label()),
        _ => String::new(),
    });

    view! {
        <Title text="Users · Rebound"/>
        <h1>"Users"</h1>
        <div aria-live="polite">
            <ActionStatus value=Signal::derive(move || set_role.value().get()) success=role_saved/>
            <ActionStatus value=Signal::derive(move || set_disabled.value().get()) success=disabled_saved/>
        </div>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) => view! { <UsersTable list set_role set_disabled/> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>

        <section class="card" aria-labelledby="add-user-title">
            <h2 id="add-user-title">"Add a user"</h2>
            <ActionStatus value=Signal::derive(move || add.value().get()) success=added/>
            <ActionForm action=add attr:class="form-grid">
                <label for="new-email">"Email"</label>
                <input id="new-email" name="email" type="email" required/>
                <label for="new-name">"Name"</label>
                <input id="new-name" name="display_name" type="text" required maxlength="100"/>
                <label for="new-role">"Role"</label>
                <select id="new-role" name="role">
                    {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                </select>
                <label for="new-password">"Initial password"</label>
                <input id="new-password" name="password" type="password" required minlength="12"
                    autocomplete="new-password" aria-describedby="pw-hint"/>
                <p id="pw-hint" class="hint">"At least 12 characters. Share it with the person privately."</p>
                <button type="submit" class="primary">"Add user"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn UsersTable(
    list: Vec<UserRow>,
    set_role: ServerAction<SetUserRole>,
    set_disabled: ServerAction<SetUserDisabled>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <caption class="sr-only">"Staff accounts"</caption>
                <thead><tr>
                    <th scope="col">"Email"</th><th scope="col">"Name"</th><th scope="col">"Role"</th>
                    <th scope="col">"Status"</th><th scope="col">"Last sign-in"</th><th scope="col">"Actions"</th>
                </tr></thead>
                <tbody>
                    {list.into_iter().map(|u| {
                        let id = u.id;
                        let select_id = format!("role-{id}");
                        let role_label = format!("Role of {}", u.email);
                        let on_change = move |ev: leptos::ev::Event| {
                            if let Some(role) = Role::parse(&event_target_value(&ev)) {
                                set_role.dispatch(SetUserRole { user_id: id, role: role.as_str().to_string() });
                            }
                        };
                        view! {
                            <tr data-user=u.email.clone()>
                                <td class="email">{u.email.clone()}</td>
                                <td>{u.display_name.clone()}</td>
                                <td>
                                    <ActionForm action=set_role attr:class="inline">
                                        <input type="hidden" name="user_id" value=id/>
                                        <label class="sr-only" for=select_id.clone()>{role_label}</label>
                                        <select id=select_id name="role" on:change=on_change>
                                            {Role::ALL.into_iter().map(|r| view! {
                                                <option value=r.as_str() selected=r == u.role>{r.label()}</option>
                                            }).collect_view()}
                                        </select>
                                        <button type="submit" class="small">"Save"</button>
                                    </ActionForm>
                                </td>
                                <td>{if u.disabled { "Disabled" } else { "Active" }}</td>
                                <td>{u.last_login_at.clone().unwrap_or_else(|| "never".into())}</td>
                                <td>
                                    <ActionForm action=set_disabled attr:class="inline">
                                        <input type="hidden" name="user_id" value=id/>
                                        <input type="hidden" name="disabled" value=if u.disabled { "false" } else { "true" }/>
                                        <button type="submit" class="small">
                                            {if u.disabled { "Enable" } else { "Disable" }}
                                        </button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
