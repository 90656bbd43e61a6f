use super::queue_tone;
use crate::domain::tickets::{Priority, Queue, TicketStatus};
use leptos::prelude::*;

/// Queue, priority and status as three badges (also on the customer page).
#[component]
pub fn TicketBadges(queue: Queue, priority: Priority, status: TicketStatus) -> impl IntoView {
    let priority_tone = match priority {
        Priority::Urgent => "fail",
        Priority::High => "warn",
        Priority::Normal => "neutral",
    };
    let status_tone = match status {
        TicketStatus::Received => "warn",
        TicketStatus::Solved => "ok",
        _ => "neutral",
    };
    view! {
        <span class=format!("badge status-{}", queue_tone(queue))>{queue.label()}</span>" "
        <span class=format!("badge status-{priority_tone}")>{priority.label()}</span>" "
        <span class=format!("badge status-{status_tone}")>{status.label()}</span>
    }
}
