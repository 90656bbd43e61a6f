use super::snapshot::{AppContextCard, SnapshotCard};
use super::TicketBadges;
use crate::api::{error_text, get_ticket_detail, AddTicketMessage, AssignTicket, SetTicketStatus};
use crate::domain::tickets::{MessageKind, TicketDetail, TicketStatus};
use crate::domain::time_fmt;
use crate::domain::url::enc;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// One ticket: the conversation, reply and note, status and assignee, why it was routed where
/// it is, and the account as it was at intake beside how it is now.
#[component]
pub fn TicketPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let message = ServerAction::<AddTicketMessage>::new();
    let status = ServerAction::<SetTicketStatus>::new();
    let assign = ServerAction::<AssignTicket>::new();
    let detail = Resource::new(
        move || {
            (
                id(),
                message.version().get(),
                status.version().get(),
                assign.version().get(),
            )
        },
        |(id, ..)| get_ticket_detail(id),
    );
    let outcome = move || {
        let m = message
            .value()
            .get()
            .map(|r| r.map(|s| format!("Saved. The ticket is now {}.", s.label())));
        let s = status
            .value()
            .get()
            .map(|r| r.map(|s| format!("Status set to {}.", s.label())));
        let a = assign.value().get().map(|r| {
            r.map(|a| match a {
                Some(a) => format!("Assigned to {}.", a.name),
                None => "Unassigned.".to_string(),
            })
        });
        // The latest action speaks.
        let mut all = [
            (message.version().get(), m),
            (status.version().get(), s),
            (assign.version().get(), a),
        ];
        all.sort_by_key(|(v, _)| std::cmp::Reverse(*v));
        all.into_iter().find_map(|(_, r)| r)
    };
    view! {
        <Title text="Ticket" />
        <p><a href="/tickets">"← All tickets"</a></p>
        {move || outcome().map(|r| match r {
            Ok(m) => view! { <p class="notice" role="status">{m}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
        })}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading the ticket…"</p> }>
            {move || detail.get().map(|r| match r {
                Err(e) => view! {
                    <section class="card empty-state"><h1>"Ticket not available"</h1><p>{error_text(&e)}</p></section>
                }.into_any(),
                Ok(d) => view! { <TicketView d message status assign /> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn TicketView(
    d: TicketDetail,
    message: ServerAction<AddTicketMessage>,
    status: ServerAction<SetTicketStatus>,
    assign: ServerAction<AssignTicket>,
) -> impl IntoView {
    let t = d.ticket.clone();
    let now = d.now_ms;
    let due = if !t.status.is_open() {
        None
    } else if t.overdue(now) {
        Some(view! { <span class="badge status-fail">{format!("Overdue by {}", time_fmt::span(now - t.sla_due_ms))}</span> }.into_any())
    } else {
        Some(view! { <span class="muted">{format!("Due in {} ({})", time_fmt::span(t.sla_due_ms - now), time_fmt::utc(t.sla_due_ms))}</span> }.into_any())
    };
    let requester = match &t.customer_id {
        Some(c) => {
            view! { <a href=format!("/customers/{}", enc(c))>{t.requester.clone()}</a> }.into_any()
        }
        None => view! { <span>{t.requester.clone()}</span> }.into_any(),
    };
    let work = d
        .can_write
        .then(|| view! { <WorkCard d=d.clone() status assign /> });
    view! {
        <div class="page-header">
            <h1>{format!("#{} ", t.number)}{t.subject.clone()}</h1>
            <p><TicketBadges queue=t.queue priority=t.priority status=t.status />" " {due}</p>
            <p class="muted">"From " {requester}
                {d.email.clone().filter(|e| *e != t.requester).map(|e| view! { " · " {e} })}
                {d.product_user_id.clone().map(|u| view! { " · user " <code>{u}</code> })}
                {d.category.map(|c| view! { " · " {c.label()} })}
                " · received " {time_fmt::utc(t.created_ms)}
            </p>
        </div>
        <div class="grid ticket-grid">
            <div>
                <section class="card section" aria-labelledby="thread-title">
                    <h2 id="thread-title">"Conversation"</h2>
                    <ol class="thread">
                        {d.messages.iter().cloned().map(|m| {
                            let (label, class) = match m.kind {
                                MessageKind::Customer => ("Customer", "message customer"),
                                MessageKind::Reply => ("Reply", "message reply"),
                                MessageKind::Note => ("Internal note", "message note"),
                            };
                            view! {
                                <li class=class>
                                    <p class="muted small"><strong>{label}</strong>" · " {m.author}" · " <time>{time_fmt::utc(m.at_ms)}</time></p>
                                    <p class="message-body">{m.body}</p>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                    {d.can_write.then(|| {
                        let id = t.id.clone();
                        // Drawn again after each saved message, so the box starts empty.
                        move || {
                            message.version().get();
                            view! { <ReplyForm id=id.clone() message /> }
                        }
                    })}
                </section>
                <AppContextCard ctx=d.snapshot.app_context.clone() />
            </div>
            <div>
                {work}
                <section class="card section" aria-labelledby="why-title">
                    <h2 id="why-title">"Why this queue"</h2>
                    <ul class="plain-list">{d.reasons.iter().cloned().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                    <p class="muted small">{match &d.helpdesk_id {
                        Some(h) => format!("Copied to the help desk as ticket {h}."),
                        None => "Not copied to an external help desk.".to_string(),
                    }}</p>
                </section>
                <SnapshotCard then=d.snapshot.clone() now=d.live.clone() />
            </div>
        </div>
    }
}

#[component]
fn ReplyForm(id: String, message: ServerAction<AddTicketMessage>) -> impl IntoView {
    view! {
        <ActionForm action=message attr:class="reply-form">
            <input type="hidden" name="id" value=id />
            <div class="field">
                <label for="t-body">"Reply or note"</label>
                <textarea id="t-body" name="body" rows="5" required maxlength="10000"></textarea>
            </div>
            <div class="field checkbox-field">
                <input id="t-note" type="checkbox" name="note" value="true" />
                <label for="t-note">"Internal note (only staff see it)"</label>
            </div>
            <p class="muted small">"Replies are stored on the ticket; Ledgerline does not email them."</p>
            <button class="button" type="submit" disabled=move || message.pending().get()>"Save"</button>
        </ActionForm>
    }
}

#[component]
fn WorkCard(
    d: TicketDetail,
    status: ServerAction<SetTicketStatus>,
    assign: ServerAction<AssignTicket>,
) -> impl IntoView {
    let t = d.ticket;
    let current = t.status;
    let assignee = t.assignee_id.clone().unwrap_or_default();
    let (id_a, id_b) = (t.id.clone(), t.id.clone());
    view! {
        <section class="card section" aria-labelledby="work-title">
            <h2 id="work-title">"Work on it"</h2>
            <ActionForm action=status attr:class="inline-form">
                <input type="hidden" name="id" value=id_a />
                <div class="field">
                    <label for="t-status">"Status"</label>
                    <select id="t-status" name="status">
                        {TicketStatus::SETTABLE.into_iter().map(|s| view! {
                            <option value=s.as_str() selected={s == current}>{s.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <button class="button secondary" type="submit">"Set status"</button>
            </ActionForm>
            <ActionForm action=assign attr:class="inline-form">
                <input type="hidden" name="id" value=id_b />
                <div class="field">
                    <label for="t-assignee">"Assignee"</label>
                    <select id="t-assignee" name="assignee">
                        <option value="" selected=assignee.is_empty()>"Unassigned"</option>
                        {d.assignees.into_iter().map(|a| {
                            let selected = a.id == assignee;
                            view! { <option value=a.id selected=selected>{a.name}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <button class="button secondary" type="submit">"Assign"</button>
            </ActionForm>
        </section>
    }
}
