import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { launch, screenshot, signIn, gotoHydrated, ADMIN, BILLING, SUPPORT, DEMO_URL } from './browser.mjs';

// The main journeys, on the demo as the README's first command starts it: DEMO_MODE (simulated
// Stripe and CRM) with the seed-demo history. scripts/test.sh starts it with a billing refund
// limit of 20.00 and creates the staff and an intake API key.
const SECRET = process.env.E2E_STRIPE_WEBHOOK_SECRET;
const KEY = process.env.E2E_DEMO_API_KEY;
const base = DEMO_URL;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function page(who, next) {
  const p = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await signIn(p, who, next, base);
  return p;
}

// Active customers as the customer list shows them: name, email, product user id, page.
async function activeCustomers(p) {
  await p.goto(`${base}/customers?state=active`);
  const rows = p.locator('table tbody tr');
  await rows.first().waitFor();
  const out = [];
  for (const row of await rows.all()) {
    const link = row.getByRole('link').first();
    out.push({
      name: await link.innerText(),
      path: await link.getAttribute('href'),
      email: await row.locator('.muted.small').first().innerText(),
      user: await row.locator('code').first().innerText(),
    });
  }
  return out;
}

// Reloads until `locator` shows up: the server's workers run refunds and apply webhooks.
async function eventually(p, locator, tries = 60) {
  for (let i = 0; i < tries && (await locator.count()) === 0; i++) {
    await p.waitForTimeout(250);
    await p.reload();
    await p.waitForLoadState('networkidle');
  }
  await locator.first().waitFor();
}

// Opens the refund form for the first payment with at least `minimum` (major units) left.
async function openRefund(p, customers, minimum) {
  for (const c of customers) {
    await gotoHydrated(p, c.path, base);
    for (const button of await p.getByRole('button', { name: /^Refund payment / }).all()) {
      await button.click();
      const left = Number((await p.getByLabel('Amount (USD)').inputValue()).replace(',', ''));
      if (left >= minimum) return { customer: c, charge: (await button.getAttribute('aria-label')) ?? '' };
      await p.getByRole('button', { name: 'Cancel' }).click();
    }
  }
  throw new Error(`no payment with ${minimum} left to refund`);
}

test('demo: every page says it is a demo with simulated Stripe and CRM', async () => {
  assert.ok(base, 'DEMO_URL is set by scripts/test.sh');
  const p = await browser.newPage();
  await p.goto(`${base}/login`);
  await p.getByText('Demo mode — simulated Stripe and CRM').waitFor();
  await signIn(p, ADMIN, '/', base);
  await p.getByText('Demo mode — simulated Stripe and CRM').waitFor();
  await p.close();
});

test('journey 1: an admin searches a customer by email, opens the page and filters the timeline to billing', async () => {
  const p = await page(ADMIN, '/');
  await gotoHydrated(p, '/', base);
  await p.getByRole('heading', { level: 1 }).first().waitFor();
  await screenshot(p, 'overview');
  const [someone] = await activeCustomers(p);

  await gotoHydrated(p, '/customers', base);
  await p.getByLabel('Search customers').fill(someone.email);
  await p.getByLabel('Search customers').press('Enter');
  await p.waitForURL((u) => u.pathname === '/customers' && u.search.includes('q='));
  const link = p.getByRole('link', { name: someone.name, exact: true });
  await link.first().waitFor();
  assert.equal(await p.locator('table tbody tr').count(), 1, 'an email finds one customer');
  await link.first().click();
  await p.waitForURL((u) => u.pathname === someone.path);
  await p.getByRole('heading', { name: someone.name }).waitFor();
  await p.getByRole('link', { name: 'Billing', exact: true }).click();
  await p.waitForURL((u) => u.search.includes('tl=billing'));
  const items = p.locator('.timeline > li');
  await items.first().waitFor();
  const sources = await items.evaluateAll((els) => els.map((e) => e.className));
  assert.ok(sources.length > 1 && sources.every((c) => c.includes('source-billing')), sources.join(','));
  await screenshot(p, 'customer');
  await p.close();
});

test('journey 2: billing refunds part of a payment; timeline and audit log show it; a second submit refunds nothing more', async () => {
  const p = await page(BILLING, '/customers');
  const customers = await activeCustomers(p);
  const { customer, charge } = await openRefund(p, customers, 10);
  const chargeId = charge.replace('Refund payment ', '');
  await p.getByLabel('Amount (USD)').fill('5.00');
  await p.getByLabel(/Internal note/).fill('Journey 2: goodwill for the outage');
  // Two submits of the same form, as a double click would send them.
  await p.locator('form:has(#refund-amount)').evaluate((f) => { f.requestSubmit(); f.requestSubmit(); });
  await p.getByText('Refund of 5.00 USD requested').waitFor();

  const mine = p.getByRole('row').filter({ hasText: 'Journey 2: goodwill' });
  await eventually(p, mine.getByText('Refunded'));
  assert.equal(await mine.count(), 1, 'one refund request');
  await gotoHydrated(p, `${customer.path}?tl=billing`, base);
  const refunded = p.locator('.timeline > li').filter({ hasText: 'charge.refunded' }).filter({ hasText: '5.00' });
  await eventually(p, refunded);
  assert.equal(await p.locator('.timeline > li').filter({ hasText: 'refund.created' }).count(), 1, 'Stripe made one refund');

  await gotoHydrated(p, `/customers/${customer.path.split('/').pop()}`, base);
  const payment = p.getByRole('row').filter({ hasText: chargeId });
  await payment.getByText('5.00 USD refunded').waitFor();
  await p.close();

  const admin = await page(ADMIN, '/audit');
  await admin.goto(`${base}/audit?action=billing.refund.executed`);
  await admin.getByRole('row').filter({ hasText: 'billing.refund.executed' }).first().waitFor();
  await admin.goto(`${base}/audit?action=billing.refund.requested&actor=${encodeURIComponent(BILLING)}`);
  assert.equal(await admin.getByRole('row').filter({ hasText: 'billing.refund.requested' }).count(), 1);
  await admin.close();
});

test('journey 3: a refund over the billing limit waits for approval; the admin approves and it executes', async () => {
  const p = await page(BILLING, '/customers');
  const customers = (await activeCustomers(p)).reverse();
  const { customer } = await openRefund(p, customers, 25);
  await p.getByLabel('Amount (USD)').fill('25.00');
  await p.getByText('Above your limit of 20.00 USD').waitFor();
  await p.getByLabel('Reason (sent to Stripe)').selectOption('duplicate');
  await p.getByLabel(/Internal note/).fill('Journey 3: charged twice');
  await p.getByRole('button', { name: 'Request refund' }).click();
  await p.getByText('Refund of 25.00 USD requested: waiting for approval.').waitFor();
  await p.close();

  const admin = await page(ADMIN, '/refunds');
  await gotoHydrated(admin, '/refunds', base);
  const row = admin.getByRole('row').filter({ hasText: 'Journey 3: charged twice' });
  await row.getByRole('button', { name: 'Approve' }).click();
  await row.getByRole('button', { name: 'Refund now' }).click();
  await admin.getByText('Refund request approved, sending.').waitFor();
  await admin.goto(base + customer.path);
  await eventually(admin, admin.getByRole('row').filter({ hasText: 'Journey 3: charged twice' }).getByText('Refunded'));
  await admin.close();
});

test('journey 4: support sees no refund action; a forged refund request is refused and audited', async () => {
  const p = await page(SUPPORT, '/customers');
  const [someone] = await activeCustomers(p);
  await gotoHydrated(p, someone.path, base);
  await p.getByRole('heading', { name: someone.name }).waitFor();
  await p.getByRole('heading', { name: 'Payments' }).waitFor();
  assert.equal(await p.getByRole('button', { name: /^Refund payment / }).count(), 0, 'no refund buttons');
  // The same call the refund form makes, from support's signed-in page.
  const status = await p.evaluate(async () => (await fetch('/api/fn/refund_request', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'charge_id=ch_forged&amount=1.00&reason=duplicate&note=forged',
  })).status);
  assert.equal(status, 403);
  await p.close();

  const admin = await page(ADMIN, '/audit');
  await admin.goto(`${base}/audit?actor=${encodeURIComponent(SUPPORT)}&action=permission.denied`);
  await admin.getByRole('row').filter({ hasText: '/api/fn/refund_request' }).first().waitFor();
  await admin.close();
});

test('journey 5: a signed invoice.payment_failed puts the customer in dunning; their ticket lands in billing-urgent', async () => {
  assert.ok(SECRET && KEY, 'the webhook secret and intake key are set by scripts/test.sh');
  const admin = await page(ADMIN, '/customers');
  const customers = await activeCustomers(admin);
  const someone = customers[Math.floor(customers.length / 2)];
  await gotoHydrated(admin, someone.path, base);
  const stripeId = (await admin.getByRole('link', { name: /^Stripe cus_/ }).first().innerText()).replace('Stripe ', '').trim();

  // Stripe's documented signing scheme, with Node's crypto.
  const now = Math.floor(Date.now() / 1000);
  const invoice = {
    id: `in_e2e${Date.now()}`, object: 'invoice', customer: stripeId, status: 'open', currency: 'usd',
    amount_due: 4900, amount_paid: 0, amount_remaining: 4900, attempt_count: 1, created: now,
    next_payment_attempt: now + 3 * 86400, livemode: false,
  };
  const body = JSON.stringify({ id: `evt_e2e${Date.now()}`, object: 'event', type: 'invoice.payment_failed', livemode: false, created: now, data: { object: invoice } });
  const v1 = createHmac('sha256', SECRET).update(`${now}.${body}`).digest('hex');
  const res = await fetch(`${base}/api/webhooks/stripe`, { method: 'POST', headers: { 'stripe-signature': `t=${now},v1=${v1}` }, body });
  assert.equal(res.status, 200);
  await eventually(admin, admin.locator('.page-header .badge').filter({ hasText: 'Dunning' }));

  // Nothing in the words is about billing: the account state routes it.
  const ticket = await fetch(`${base}/api/v1/support/tickets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'idempotency-key': `j5-${Date.now()}` },
    body: JSON.stringify({ user_id: someone.user, subject: 'Reports page stays blank', message: 'Since this morning the reports page shows nothing.' }),
  }).then(async (r) => { assert.equal(r.status, 201); return r.json(); });
  assert.equal(ticket.queue, 'billing_urgent');
  await gotoHydrated(admin, '/tickets?queue=billing_urgent', base);
  await admin.getByRole('link', { name: `#${ticket.number} Reports page stays blank` }).waitFor();
  await gotoHydrated(admin, '/webhooks', base);
  await admin.getByRole('row').filter({ hasText: 'invoice.payment_failed' }).first().waitFor();
  const overflow = await admin.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `wide tables scroll inside the page, not the page (${overflow} px)`);
  await screenshot(admin, 'webhooks');
  await admin.close();
});

test('journey 6: an admin filters the audit log by actor and exports it as CSV', async () => {
  const admin = await page(ADMIN, '/audit');
  await gotoHydrated(admin, '/audit', base);
  await admin.getByLabel('Actor').fill(BILLING);
  await admin.getByRole('button', { name: 'Apply' }).click();
  await admin.waitForURL((u) => u.search.includes('actor='));
  const rows = admin.locator('table tbody tr');
  await rows.first().waitFor();
  const actors = await admin.locator('table tbody td.actor').allInnerTexts();
  assert.ok(actors.length > 0 && actors.every((a) => a.includes(BILLING)), actors.join(','));
  await screenshot(admin, 'audit-log');

  const [download] = await Promise.all([
    admin.waitForEvent('download'),
    admin.getByRole('link', { name: 'Export CSV' }).click(),
  ]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\n');
  assert.match(csv[0], /actor/i, 'a header row');
  assert.equal(csv.length - 1, actors.length, 'the same entries as the page');
  assert.ok(csv.slice(1).every((line) => line.includes(BILLING)), 'only the chosen actor');
  assert.ok(csv.some((line) => line.includes('billing.refund.requested')));
  await admin.close();
});
