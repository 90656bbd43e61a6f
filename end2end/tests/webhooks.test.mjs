import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { launch, screenshot, signIn, ADMIN, BASE_URL } from './browser.mjs';

// scripts/test.sh starts the server with this secret.
const SECRET = process.env.E2E_STRIPE_WEBHOOK_SECRET;

// Stripe's documented scheme, computed here with Node's own crypto, independent of our code.
const signature = (body, secret, t = Math.floor(Date.now() / 1000)) =>
  `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;

const post = (body, header) =>
  fetch(`${BASE_URL}/api/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(header ? { 'stripe-signature': header } : {}) },
    body,
  });

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a signed Stripe event is acknowledged, processed and shown; a forged one is refused', async () => {
  assert.ok(SECRET, 'E2E_STRIPE_WEBHOOK_SECRET is set by scripts/test.sh');
  const id = `evt_e2e${Date.now()}`;
  const body = JSON.stringify({
    id, object: 'event', type: 'invoice.payment_failed', created: Math.floor(Date.now() / 1000), livemode: false,
    data: { object: { id: 'in_e2e1', object: 'invoice', customer: 'cus_e2e1', status: 'open', attempt_count: 1,
      amount_due: 4900, amount_paid: 0, amount_remaining: 4900, currency: 'eur' } },
  });
  const ok = await post(body, signature(body, SECRET));
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).outcome, 'queued');
  const forged = await post(body.replace('4900', '1'), signature(body, SECRET));
  assert.equal(forged.status, 400);
  assert.equal((await forged.json()).error, 'invalid signature');
  const again = await post(body, signature(body, SECRET));
  assert.equal((await again.json()).outcome, 'duplicate');

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, ADMIN, '/webhooks');
  const row = page.getByRole('row').filter({ hasText: 'invoice.payment_failed' });
  for (let i = 0; i < 20 && (await row.getByText('Processed').count()) === 0; i++) {
    await page.waitForTimeout(250);
    await page.reload();
  }
  await row.getByText('Processed').waitFor();
  await row.getByText('+1 dup').waitFor();
  await screenshot(page, 'webhooks');
  await row.getByRole('link').first().click();
  await page.waitForURL((u) => u.pathname === `/webhooks/${id}`);
  await page.getByRole('heading', { name: id }).waitFor();
  await page.getByText('"in_e2e1"').waitFor();
  await page.close();
});
