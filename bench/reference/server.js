// The reference receiver for the ingest benchmark: what a typical founder's stack does with a
// Stripe webhook. Express, the official `stripe` library's constructEvent, and an insert into
// SQLite with better-sqlite3 (WAL and synchronous=NORMAL, as Ledgerline's SQLite runs).
// PORT, DB and STRIPE_WEBHOOK_SECRET come from the environment (scripts/bench-ingest.sh).
const express = require('express');
const Stripe = require('stripe');
const Database = require('better-sqlite3');

const secret = process.env.STRIPE_WEBHOOK_SECRET;
const stripe = new Stripe('sk_test_reference_unused');
const db = new Database(process.env.DB || 'reference.db');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(`CREATE TABLE IF NOT EXISTS stripe_events (
  id TEXT PRIMARY KEY, type TEXT NOT NULL, payload TEXT NOT NULL, received_at INTEGER NOT NULL)`);
const insert = db.prepare(
  'INSERT OR IGNORE INTO stripe_events (id, type, payload, received_at) VALUES (?, ?, ?, ?)');

const app = express();
app.post('/webhook', express.raw({ type: '*/*', limit: '1mb' }), (req, res) => {
  let event;
  try {
    event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], secret);
  } catch (err) {
    return res.status(400).json({ error: 'invalid signature' });
  }
  insert.run(event.id, event.type, req.body.toString('utf8'), Date.now());
  res.json({ received: true });
});
app.get('/health', (_req, res) => res.json({ ok: true }));
app.listen(Number(process.env.PORT || 4242), '127.0.0.1');
