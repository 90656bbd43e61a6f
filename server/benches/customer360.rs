//! Customer 360 at size: search over 100,000 customers, and the customer page of one with
//! 10,000 timeline entries in a database holding 5,000,000. Server time of the service calls
//! the page makes (no HTTP, no rendering). `cargo bench -p server --bench customer360`
//! (PostgreSQL via TEST_POSTGRES_URL). Seeding takes a few minutes per backend.

mod common;

use app::domain::CustomerFilter;
use app::server::db::Backend;
use app::server::services::timeline;
use app::server::views::customers;
use app::server::{config::Config, Db};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const CUSTOMERS: i64 = 100_000;
const EVENTS: i64 = 5_000_000;
const BIG: i64 = 10_000;
const TICKETS: i64 = 10_000;

/// BENCH_SCALE=100 divides every size by 100: a quick check that the seeding runs.
fn scaled(n: i64) -> i64 {
    let k: i64 = std::env::var("BENCH_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    (n / k.max(1)).max(100)
}
const RUNS: usize = 60;
const BASE: i64 = 1_750_000_000_000;

const FIRST: [&str; 40] = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Margaret",
    "Ken",
    "Dennis",
    "Linus",
    "Guido",
    "Bjarne",
    "Frances",
    "Radia",
    "Hedy",
    "John",
    "Katherine",
    "Tim",
    "Vint",
    "Leslie",
    "Niklaus",
    "Robin",
    "Shafi",
    "Silvio",
    "Whitfield",
    "Martin",
    "Ivan",
    "Jean",
    "Kristen",
    "Ole",
    "Adele",
    "Sophie",
    "Mary",
    "Anita",
    "Carol",
    "Evelyn",
    "Joan",
    "Lynn",
    "Susan",
    "Yukihiro",
];
const LAST: [&str; 40] = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Ritchie",
    "Torvalds",
    "Rossum",
    "Stroustrup",
    "Allen",
    "Perlman",
    "Lamarr",
    "McCarthy",
    "Johnson",
    "Berners",
    "Cerf",
    "Lamport",
    "Wirth",
    "Milner",
    "Goldwasser",
    "Micali",
    "Diffie",
    "Hellman",
    "Sutherland",
    "Sammet",
    "Nygaard",
    "Dahl",
    "Goldberg",
    "Wilson",
    "Keller",
    "Borg",
    "Shaw",
    "Berezin",
    "Clarke",
    "Conway",
    "Kare",
    "Matsumoto",
];

fn pick(list: &[&str], expr: &str) -> String {
    let arms: String = list
        .iter()
        .enumerate()
        .map(|(k, v)| format!(" WHEN {k} THEN '{v}'"))
        .collect();
    format!("(CASE {expr}{arms} END)")
}

/// `i` from 0 to n - 1, as a FROM item.
fn series(backend: Backend, n: i64) -> String {
    match backend {
        Backend::Sqlite => format!(
            "(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {}) SELECT i FROM s) n",
            n - 1
        ),
        Backend::Postgres => format!("generate_series(0, {}) AS n(i)", n - 1),
    }
}

async fn exec(db: &Db, sql: &str) {
    let mut tx = db.begin().await.unwrap();
    sqlx::query(sql).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
}

async fn seed(db: &Db) -> Duration {
    let t = Instant::now();
    let b = db.backend();
    let first = pick(&FIRST, "(n.i % 40)");
    let last = pick(&LAST, "((n.i / 40) % 40)");
    exec(db, &format!(
        "INSERT INTO customers (id, name, email, email_normalized, product_user_id, crm_contact_id, account_state, created_at, updated_at) \
         SELECT 'cust_' || n.i, {first} || ' ' || {last}, \
                lower({first}) || '.' || lower({last}) || n.i || '@example.com', \
                lower({first}) || '.' || lower({last}) || n.i || '@example.com', \
                'u_' || n.i, 'hs' || n.i, \
                CASE n.i % 10 WHEN 0 THEN 'past_due' WHEN 1 THEN 'canceled' ELSE 'active' END, \
                {BASE} + n.i, {BASE} + (n.i * 7919) % 100000000 FROM {}",
        series(b, scaled(CUSTOMERS))
    ))
    .await;
    exec(db, &format!(
        "INSERT INTO stripe_customers (id, customer_id, deleted, delinquent, livemode, version, updated_at) \
         SELECT 'cus_' || n.i, 'cust_' || n.i, 0, 0, 0, '', {BASE} FROM {}",
        series(b, scaled(CUSTOMERS))
    ))
    .await;
    exec(db, &format!(
        "INSERT INTO tickets (id, number, api_key_id, idempotency_key, request_hash, customer_id, subject, queue, priority, \
           route_reasons, status, sla_due_at, snapshot, created_at, updated_at) \
         SELECT 'tkt_' || n.i, 1001 + n.i, 'key_bench', 'key:' || n.i, '', 'cust_' || (n.i * 10), 'Help', 'general', 'normal', \
                '[]', 'open', {BASE}, '{{}}', {BASE} + n.i, {BASE} + n.i FROM {}",
        series(b, scaled(TICKETS))
    ))
    .await;
    // The big customer first, then the rest spread over every other customer.
    exec(db, &format!(
        "INSERT INTO customer_events (id, customer_id, at, source, kind, summary, created_at) \
         SELECT 'tl_big_' || n.i, 'cust_0', {BASE} + n.i * 60000, \
                CASE n.i % 3 WHEN 0 THEN 'billing' WHEN 1 THEN 'crm' ELSE 'ticket' END, 'bench.event', 'Entry ' || n.i, {BASE} \
         FROM {}",
        series(b, scaled(BIG))
    ))
    .await;
    let rest = scaled(EVENTS) - scaled(BIG);
    let chunk = 1_000_000;
    let mut from = 0;
    while from < rest {
        let n = chunk.min(rest - from);
        exec(db, &format!(
            "INSERT INTO customer_events (id, customer_id, at, source, kind, summary, created_at) \
             SELECT 'tl_' || ({from} + n.i), 'cust_' || (1 + ({from} + n.i) % {}), {BASE} + CAST({from} + n.i AS BIGINT) * 1000, \
                    'billing', 'bench.event', 'Entry', {BASE} FROM {}",
            scaled(CUSTOMERS) - 1,
            series(b, n)
        ))
        .await;
        from += n;
    }
    exec(db, "ANALYZE").await;
    t.elapsed()
}

fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let at =
        |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
    (at(0.5), at(0.95))
}

async fn time<F, Fut, T>(f: F) -> (f64, f64)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    for _ in 0..5 {
        f().await;
    }
    let mut samples = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        f().await;
        samples.push(t.elapsed());
    }
    percentiles(samples)
}

async fn run(label: &'static str, db: Db) {
    let seeded = seed(&db).await;
    println!(
        "| {label} | seed 100k customers, 5M timeline entries | {:.0} s | |",
        seeded.as_secs_f64()
    );
    for (what, q) in [
        ("search: email prefix", "ada.lov"),
        ("search: name prefix", "Grace Ho"),
        ("search: two letters", "ed"),
        ("search: whole email", "grace.hopper41@example.com"),
        ("search: internal id", "cust_4242"),
        ("search: product user id", "u_4242"),
        ("search: Stripe id", "cus_4242"),
        ("search: CRM contact id", "hs4242"),
        ("search: ticket number", "#5001"),
        ("search: no match", "zz-nobody"),
        ("search: one typo (close matches)", "grace.hoper"),
        ("search: typo, nothing close", "adx.qqqqq"),
    ] {
        let filter = CustomerFilter {
            q: Some(q.to_string()),
            ..Default::default()
        };
        let found = customers::list(&db, &app::server::actor::Actor::System, &filter)
            .await
            .unwrap()
            .items
            .len();
        let (p50, p95) =
            time(|| customers::list(&db, &app::server::actor::Actor::System, &filter)).await;
        println!("| {label} | {what} (`{q}`, {found} shown) | {p50:.2} ms | {p95:.2} ms |");
    }
    let all = CustomerFilter::default();
    let (p50, p95) = time(|| customers::list(&db, &app::server::actor::Actor::System, &all)).await;
    println!("| {label} | customer list, first page | {p50:.2} ms | {p95:.2} ms |");

    let now = BASE + 1_000_000_000_000;
    let (p50, p95) = time(|| {
        timeline::page(
            &db,
            &app::server::actor::Actor::System,
            "cust_0",
            None,
            None,
            timeline::PAGE_SIZE,
            now,
        )
    })
    .await;
    println!(
        "| {label} | timeline first page, 10,000-entry customer | {p50:.2} ms | {p95:.2} ms |"
    );
    let page = timeline::page(
        &db,
        &app::server::actor::Actor::System,
        "cust_0",
        None,
        None,
        timeline::PAGE_SIZE,
        now,
    )
    .await
    .unwrap();
    let cursor = page.next_cursor.unwrap();
    let (p50, p95) = time(|| {
        timeline::page(
            &db,
            &app::server::actor::Actor::System,
            "cust_0",
            None,
            Some(&cursor),
            timeline::PAGE_SIZE,
            now,
        )
    })
    .await;
    println!("| {label} | timeline next page (cursor) | {p50:.2} ms | {p95:.2} ms |");
    let (p50, p95) = time(|| {
        timeline::page(
            &db,
            &app::server::actor::Actor::System,
            "cust_0",
            Some("crm"),
            None,
            timeline::PAGE_SIZE,
            now,
        )
    })
    .await;
    println!("| {label} | timeline filtered to CRM | {p50:.2} ms | {p95:.2} ms |");
    let vars = HashMap::from([
        ("DATABASE_URL", "sqlite://unused.db"),
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
    ]);
    let config = Config::from_lookup(&|k| vars.get(k).map(|v| v.to_string())).unwrap();
    let (p50, p95) = time(|| {
        customers::view(
            &db,
            &app::server::actor::Actor::System,
            &config,
            "cust_0",
            None,
            now,
        )
    })
    .await;
    println!("| {label} | whole customer page data (view) | {p50:.2} ms | {p95:.2} ms |");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!("| backend | measure | p50 | p95 |\n|---|---|---|---|");
    common::on_each_backend(run).await;
}
