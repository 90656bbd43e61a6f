//! `seed-demo`: a realistic history written through the webhook path and the intake service —
//! every event processed, a plan mix, trials, cancellations, dunning, tickets in both queues
//! with replies, a few failed jobs — and a second run adds nothing.

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestApp};
use app::domain::Role;

both_backends!(the_demo_history_is_realistic_and_a_second_run_adds_nothing);

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
}

async fn the_demo_history_is_realistic_and_a_second_run_adds_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.sign_in(Role::Support).await;
    let db = &app.state.db;
    let report = app.seed_demo(150, 3).await.unwrap();
    assert_eq!(count(&app, "SELECT COUNT(*) FROM customers").await, 150);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM stripe_events").await,
        report.events as i64
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM stripe_events WHERE status <> 'processed'"
        )
        .await,
        0,
        "every event went through processing"
    );
    let states: Vec<(String, i64)> = sqlx::query_as(
        "SELECT account_state, COUNT(*) FROM customers GROUP BY account_state ORDER BY account_state",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let of = |s: &str| states.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
    assert!(of("active") > 90, "{states:?}");
    assert!(of("canceled") >= 5, "{states:?}");
    assert!(
        of("past_due") >= 2,
        "some accounts are in dunning: {states:?}"
    );
    assert!(
        count(
            &app,
            "SELECT COUNT(DISTINCT plan_name) FROM stripe_subscriptions"
        )
        .await
            >= 4,
        "a plan mix"
    );
    assert!(
        count(
            &app,
            "SELECT COUNT(*) FROM customer_events WHERE kind = 'invoice.paid'"
        )
        .await
            > 500
    );
    assert!(
        count(&app, "SELECT COUNT(*) FROM stripe_refunds").await
            + count(
                &app,
                "SELECT COUNT(*) FROM stripe_charges WHERE amount_refunded > 0"
            )
            .await
            > 0
    );
    assert!(report.tickets >= 10, "{report:?}");
    assert_eq!(
        count(&app, "SELECT COUNT(DISTINCT queue) FROM tickets").await,
        2,
        "both queues"
    );
    assert!(report.replies >= 1);
    assert_eq!(report.dead_jobs, 3);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM jobs WHERE status = 'dead'").await,
        3
    );

    let again = app.seed_demo(150, 3).await.unwrap();
    assert_eq!(
        (again.tickets, again.replies, again.dead_jobs),
        (0, 0, 0),
        "{again:?}"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM stripe_events").await,
        report.events as i64
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM customers").await, 150);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM tickets").await,
        report.tickets as i64
    );

    // The simulated Stripe account holds every object; one seeded before it existed gets them
    // on the next run, without a second history.
    let objects = count(&app, "SELECT COUNT(*) FROM demo_stripe_objects").await;
    assert_eq!(
        objects,
        count(&app, "SELECT COUNT(*) FROM stripe_customers").await
            + count(&app, "SELECT COUNT(*) FROM stripe_subscriptions").await
            + count(&app, "SELECT COUNT(*) FROM stripe_invoices").await
            + count(&app, "SELECT COUNT(*) FROM stripe_charges").await
            + count(&app, "SELECT COUNT(*) FROM stripe_disputes").await
            + count(&app, "SELECT COUNT(*) FROM stripe_refunds").await
    );
    sqlx::query("DELETE FROM demo_stripe_objects")
        .execute(db.pool())
        .await
        .unwrap();
    app.seed_demo(150, 3).await.unwrap();
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM demo_stripe_objects").await,
        objects
    );
}
