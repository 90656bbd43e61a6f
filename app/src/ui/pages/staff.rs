use crate::api::{
    error_text, list_staff, ChangeStaffRole, ForceStaffReset, InviteStaff, SetStaffActive,
};
use crate::domain::{time_fmt, OneTimeLink, Role, StaffView};
use crate::ui::components::ConfirmButton;
use leptos::prelude::*;
use leptos_meta::Title;

/// Staff administration: invite, change role, deactivate/reactivate, force a password reset.
/// Every action is audited by the service it calls.
#[component]
pub fn StaffPage() -> impl IntoView {
    let invite = ServerAction::<InviteStaff>::new();
    let role = ServerAction::<ChangeStaffRole>::new();
    let active = ServerAction::<SetStaffActive>::new();
    let reset = ServerAction::<ForceStaffReset>::new();
    let staff = Resource::new(
        move || {
            (
                invite.version().get(),
                role.version().get(),
                active.version().get(),
                reset.version().get(),
            )
        },
        |_| list_staff(),
    );
    let failure = move || {
        [
            invite.value().get().and_then(|r| r.err()),
            role.value().get().and_then(|r| r.err()),
            active.value().get().and_then(|r| r.err()),
            reset.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| error_text(&e))
    };
    let link = move || {
        invite
            .value()
            .get()
            .and_then(|r| r.ok())
            .or_else(|| reset.value().get().and_then(|r| r.ok()))
    };

    view! {
        <Title text="Staff" />
        <div class="page-header">
            <h1>"Staff"</h1>
            <p class="muted">"Who can sign in, and what their role lets them do."</p>
        </div>
        {move || failure().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {move || link().map(|l| view! { <LinkCallout link=l /> })}
        <section class="card" aria-labelledby="invite-title">
            <h2 id="invite-title">"Invite someone"</h2>
            <ActionForm action=invite attr:class="inline-form">
                <div class="field"><label for="inv-email">"Email"</label><input id="inv-email" name="email" type="email" required maxlength="254" /></div>
                <div class="field"><label for="inv-name">"Name"</label><input id="inv-name" name="name" required maxlength="100" /></div>
                <div class="field"><label for="inv-role">"Role"</label><RoleSelect id="inv-role" selected=Role::Viewer /></div>
                <button class="button" type="submit">"Create invite link"</button>
            </ActionForm>
        </section>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading staff…"</p> }>
            {move || staff.get().map(|r| match r {
                Err(_) => view! { <p class="error" role="alert">"Staff could not be loaded."</p> }.into_any(),
                Ok(list) => view! {
                    <div class="table-wrap card">
                        <table>
                            <caption class="visually-hidden">"Staff accounts"</caption>
                            <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Status"</th><th scope="col">"Actions"</th></tr></thead>
                            <tbody>{list.into_iter().map(|s| view! { <StaffRow s role active reset /> }).collect_view()}</tbody>
                        </table>
                    </div>
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn RoleSelect(id: &'static str, selected: Role) -> impl IntoView {
    view! {
        <select id=id name="role">
            {Role::ALL.iter().map(|r| view! { <option value=r.as_str() selected=*r == selected>{r.label()}</option> }).collect_view()}
        </select>
    }
}

#[component]
fn StaffRow(
    s: StaffView,
    role: ServerAction<ChangeStaffRole>,
    active: ServerAction<SetStaffActive>,
    reset: ServerAction<ForceStaffReset>,
) -> impl IntoView {
    let status = if !s.active {
        ("Deactivated", "badge status-fail")
    } else if s.awaiting_password {
        ("Awaiting password", "badge status-warn")
    } else {
        ("Active", "badge status-ok")
    };
    let (id1, id2, id3) = (s.id.clone(), s.id.clone(), s.id.clone());
    let select_id = format!("role-{}", s.id);
    let role_label = format!("Role for {}", s.email);
    let deactivate_warning = format!("{} will be signed out everywhere.", s.email);
    view! {
        <tr>
            <td>{s.name.clone()}</td>
            <td class="actor">{s.email.clone()}</td>
            <td>
                <ActionForm action=role attr:class="row-form">
                    <input type="hidden" name="id" value=id1 />
                    <label class="visually-hidden" for=select_id.clone()>{role_label}</label>
                    <select id=select_id name="role">
                        {Role::ALL.iter().map(|r| view! { <option value=r.as_str() selected=*r == s.role>{r.label()}</option> }).collect_view()}
                    </select>
                    <button class="button secondary small-button" type="submit">"Save"</button>
                </ActionForm>
            </td>
            <td><span class=status.1>{status.0}</span></td>
            <td class="row-actions">
                <ActionForm action=active attr:class="row-form">
                    <input type="hidden" name="id" value=id2 />
                    <input type="hidden" name="active" value=(!s.active).to_string() />
                    {if s.active {
                        view! { <ConfirmButton label="Deactivate" confirm="Deactivate now" warning=deactivate_warning /> }.into_any()
                    } else {
                        view! { <button class="button secondary small-button" type="submit">"Reactivate"</button> }.into_any()
                    }}
                </ActionForm>
                <ActionForm action=reset attr:class="row-form">
                    <input type="hidden" name="id" value=id3 />
                    <ConfirmButton label="Reset password" confirm="Reset now" warning="Their password stops working and they are signed out.".to_string() />
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
fn LinkCallout(link: OneTimeLink) -> impl IntoView {
    view! {
        <section class="card callout" role="status" aria-labelledby="link-title">
            <h2 id="link-title">{format!("One-time link for {}", link.email)}</h2>
            <p>"Send this link to them yourself. It is shown only now and works once, until " {time_fmt::utc(link.expires_at_ms)} "."</p>
            <input class="link-field" readonly value=link.url.clone() aria-label="One-time link" />
        </section>
    }
}
