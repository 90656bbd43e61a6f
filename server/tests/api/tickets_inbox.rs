//! The staff inbox over HTTP: queues and filters, reply / note / status / assignee with their
//! permissions and audit entries, the ticket on the customer page, markup shown as text; the
//! Zendesk copy through 429s, 5xx and a lost answer; a sign-up reported by intake becomes one
//! CRM contact.

use crate::both_backends;
use crate::helpers::{audit_entries, Backend, TestApp};
use crate::hubspot_fake::FakeHubSpot;
use crate::tickets_intake::{app_with, count, new_key, post};
use crate::zendesk_fake::{FakeZendesk, Fault, EMAIL, TOKEN};
use app::domain::Role;
use serde_json::{json, Value};
use std::time::Duration;

both_backends!(
    staff_work_tickets_and_every_change_is_audited,
    markup_in_a_ticket_is_shown_as_text,
    a_new_ticket_is_copied_to_zendesk_once_through_faults,
    a_sign_up_reported_by_intake_becomes_one_crm_contact,
);

async fn open(app: &TestApp, key: &str, user: &str, subject: &str) -> Value {
    let body = json!({ "user_id": user, "email": format!("{user}@example.com"), "subject": subject, "message": "Hello there" });
    let a = post(app, Some(key), &body.to_string(), None).await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body
}

fn numbers(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_i64().unwrap())
        .collect()
}

async fn staff_work_tickets_and_every_change_is_audited(backend: Backend) {
    let Some(app) = app_with(backend, &[]).await else {
        return;
    };
    let key = new_key(&app, "Product").await;
    let urgent = open(&app, &key, "u_a", "Refund for last month").await;
    let general = open(&app, &key, "u_b", "Export is slow").await;
    let id = urgent["id"].as_str().unwrap().to_string();
    let (viewer, _) = app.sign_in(Role::Viewer).await;
    let (support, me) = app.sign_in(Role::Support).await;
    let (_, other_viewer) = app.sign_in(Role::Viewer).await;

    let (status, page) = app.call_fn(&viewer, "ticket_list", &[]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(numbers(&page), [1002, 1001], "newest first");
    let queues: Vec<(String, i64)> = page["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["queue"].as_str().unwrap().to_string(),
                q["open"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        queues,
        [
            ("billing_urgent".to_string(), 1),
            ("general".to_string(), 1)
        ]
    );
    let (_, page) = app
        .call_fn(&viewer, "ticket_list", &[("queue", "general")])
        .await;
    assert_eq!(numbers(&page), [general["number"].as_i64().unwrap()]);
    let (status, _) = app
        .call_fn(&viewer, "ticket_list", &[("queue", "vip")])
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .call_fn(&viewer, "ticket_message", &[("id", &id), ("body", "hi")])
        .await;
    assert_eq!(status, 403, "viewers read, they do not write");

    let (status, detail) = app.call_fn(&viewer, "ticket_detail", &[("id", &id)]).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["can_write"], false);
    assert_eq!(detail["messages"][0]["kind"], "customer");
    assert_eq!(detail["live"]["customer_id"], urgent["customer_id"]);
    let (status, _) = app
        .call_fn(&viewer, "ticket_detail", &[("id", "tkt_nope")])
        .await;
    assert_eq!(status, 404);

    let (status, body) = app
        .call_fn(&support, "ticket_message", &[("id", &id), ("body", "  ")])
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = app
        .call_fn(
            &support,
            "ticket_message",
            &[("id", &id), ("body", "Looking into it."), ("note", "true")],
        )
        .await;
    assert_eq!(
        (status, body),
        (200, json!("open")),
        "a note opens a new ticket"
    );
    let (status, body) = app
        .call_fn(
            &support,
            "ticket_message",
            &[("id", &id), ("body", "Refunded, see your email.")],
        )
        .await;
    assert_eq!(
        (status, body),
        (200, json!("pending")),
        "a reply waits on the customer"
    );
    let (_, detail) = app.call_fn(&support, "ticket_detail", &[("id", &id)]).await;
    let kinds: Vec<&str> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["customer", "note", "reply"]);
    assert_eq!(detail["can_write"], true);
    assert!(detail["assignees"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == json!(me.id)));
    assert!(!detail["assignees"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == json!(other_viewer.id)));

    let (status, _) = app
        .call_fn(
            &support,
            "ticket_assign",
            &[("id", &id), ("assignee", &other_viewer.id)],
        )
        .await;
    assert_eq!(status, 422, "a viewer cannot be given tickets");
    let (status, body) = app
        .call_fn(
            &support,
            "ticket_assign",
            &[("id", &id), ("assignee", &me.id)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = app
        .call_fn(
            &support,
            "ticket_assign",
            &[("id", &id), ("assignee", &me.id)],
        )
        .await;
    assert_eq!(status, 409);
    let (_, mine) = app
        .call_fn(
            &support,
            "ticket_list",
            &[("assignee", "me"), ("status", "all")],
        )
        .await;
    assert_eq!(numbers(&mine), [1001]);
    let (_, unassigned) = app
        .call_fn(&support, "ticket_list", &[("assignee", "none")])
        .await;
    assert_eq!(numbers(&unassigned), [1002]);

    let (status, _) = app
        .call_fn(
            &support,
            "ticket_status",
            &[("id", &id), ("status", "received")],
        )
        .await;
    assert_eq!(status, 422, "new is not something staff set");
    let (status, body) = app
        .call_fn(
            &support,
            "ticket_status",
            &[("id", &id), ("status", "solved")],
        )
        .await;
    assert_eq!((status, body), (200, json!("solved")));
    let (_, open_now) = app.call_fn(&support, "ticket_list", &[]).await;
    assert_eq!(
        numbers(&open_now),
        [1002],
        "solved tickets leave the default view"
    );
    let (_, solved) = app
        .call_fn(&support, "ticket_list", &[("status", "solved")])
        .await;
    assert_eq!(numbers(&solved), [1001]);

    // Overdue: past its SLA and still waiting for us.
    let (_, none_due) = app
        .call_fn(&support, "ticket_list", &[("overdue", "1")])
        .await;
    assert!(numbers(&none_due).is_empty());
    sqlx::query("UPDATE tickets SET sla_due_at = 1000 WHERE number = 1002")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let (_, due) = app
        .call_fn(&support, "ticket_list", &[("overdue", "1")])
        .await;
    assert_eq!(numbers(&due), [1002]);
    assert_eq!(due["queues"][1]["overdue"], 1);

    for (action, n) in [
        ("ticket.noted", 1),
        ("ticket.replied", 1),
        ("ticket.assigned", 1),
        ("ticket.status_changed", 1),
    ] {
        let entries = audit_entries(&app.state.db, action).await;
        assert_eq!(entries.len(), n, "{action}");
        assert_eq!(entries[0].actor_id.as_deref(), Some(me.id.as_str()));
        assert_eq!(entries[0].target_id.as_deref(), Some(id.as_str()));
    }
    let customer = urgent["customer_id"].as_str().unwrap();
    let page = app.html(&support, &format!("/customers/{customer}")).await;
    assert!(
        page.contains("#1001") && page.contains("Refund for last month"),
        "the customer page lists the ticket"
    );
    let replies: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM customer_events WHERE customer_id = $1 AND source = 'ticket'",
    )
    .bind(customer)
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(replies, 2, "received and replied, on the timeline");
    let inbox = app.html(&support, "/tickets").await;
    assert!(
        inbox.contains("Export is slow") && inbox.contains("overdue"),
        "the inbox page renders"
    );
}

async fn markup_in_a_ticket_is_shown_as_text(backend: Backend) {
    let Some(app) = app_with(backend, &[]).await else {
        return;
    };
    let key = new_key(&app, "Product").await;
    let body = json!({ "user_id": "u_x", "name": "<b>Eve</b>", "subject": "<img src=x onerror=alert(1)>",
                       "message": "<script>alert('x')</script>", "context": { "page": "javascript:alert(1)" } });
    let a = post(&app, Some(&key), &body.to_string(), None).await;
    let (support, _) = app.sign_in(Role::Support).await;
    for path in [
        format!("/tickets/{}", a.body["id"].as_str().unwrap()),
        "/tickets".into(),
    ] {
        let html = app.html(&support, &path).await;
        assert!(
            !html.contains("<img src=x")
                && !html.contains("<script>alert")
                && !html.contains("<b>Eve"),
            "{path}"
        );
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)"),
            "{path} shows the subject as text"
        );
        assert!(!html.contains("href=\"javascript:"), "{path}");
    }
}

async fn a_new_ticket_is_copied_to_zendesk_once_through_faults(backend: Backend) {
    let fake = FakeZendesk::start(Duration::from_millis(600)).await;
    let Some(app) = app_with(
        backend,
        &[
            ("HELPDESK_PROVIDER", "zendesk"),
            ("ZENDESK_API_BASE", &fake.url),
            ("ZENDESK_EMAIL", EMAIL),
            ("ZENDESK_API_TOKEN", TOKEN),
            ("ZENDESK_TIMEOUT_MS", "150"),
        ],
    )
    .await
    else {
        return;
    };
    let key = new_key(&app, "Product").await;
    // find → 429, find → 503, find → nothing, create → created but the answer is late, find → it.
    fake.state.lock().unwrap().fail_next = vec![
        Some(Fault::RateLimited),
        Some(Fault::ServerError),
        None,
        Some(Fault::SlowAnswer),
    ];
    let t = open(&app, &key, "u_z", "Invoice question").await;
    let runs = crate::crm_sync::drain(&app, 1).await;
    assert_eq!(runs, 4, "three failed runs, then the copy is found");
    let (tickets, requests, rejected) = {
        let desk = fake.state.lock().unwrap();
        (
            desk.tickets.clone(),
            desk.requests.clone(),
            desk.rejected.clone(),
        )
    };
    assert_eq!(tickets.len(), 1, "exactly one Zendesk ticket: {requests:?}");
    assert!(rejected.is_empty(), "{rejected:?}");
    let z = &tickets[0];
    assert_eq!(z["external_id"], "ledgerline-1001");
    assert_eq!(z["priority"], "high");
    assert_eq!(z["requester"]["email"], "u_z@example.com");
    assert!(z["comment"]["body"]
        .as_str()
        .unwrap()
        .starts_with("Hello there"));
    assert_eq!(z["tags"], json!(["ledgerline", "billing_urgent"]));
    let copied: Option<String> =
        sqlx::query_scalar("SELECT helpdesk_id FROM tickets WHERE id = $1")
            .bind(t["id"].as_str().unwrap())
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(copied.as_deref(), Some("35001"));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'helpdesk.copy' AND status = 'succeeded'"
        )
        .await,
        1
    );
}

async fn a_sign_up_reported_by_intake_becomes_one_crm_contact(backend: Backend) {
    let hub = FakeHubSpot::start(Duration::from_millis(600)).await;
    let Some(app) = crate::crm_sync::app(backend, &hub).await else {
        return;
    };
    let key = new_key(&app, "Product").await;
    let first = open(&app, &key, "u_signup", "Getting started").await;
    crate::crm_sync::drain(&app, 1).await;
    let customer = first["customer_id"].as_str().unwrap();
    assert_eq!(hub.count_with("ledgerline_id", customer), 1);
    assert_eq!(hub.count_with("email", "u_signup@example.com"), 1);
    open(&app, &key, "u_signup", "Another question").await;
    crate::crm_sync::drain(&app, 1).await;
    assert_eq!(
        hub.state.lock().unwrap().contacts.len(),
        1,
        "the second ticket finds the same customer and contact"
    );
}
