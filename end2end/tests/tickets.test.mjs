import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot, signIn, gotoHydrated, BILLING, BASE_URL } from './browser.mjs';

// scripts/test.sh creates this key with `ledgerline api-key create --scope tickets:write`.
const KEY = process.env.E2E_API_KEY;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function openTicket(body, idempotencyKey) {
  const res = await fetch(`${BASE_URL}/api/v1/support/tickets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  assert.equal(res.status, 201, JSON.stringify(json));
  return json;
}

test('markup in a ticket stays text, and staff reply to it from the inbox', async () => {
  assert.ok(KEY, 'E2E_API_KEY is set by scripts/test.sh');
  const subject = '<img src=x onerror="window.__xss=1">Refund please';
  const ticket = await openTicket({
    user_id: 'u_e2e_mallory', email: 'mallory@e2e.example.com', name: '<b>Mallory</b>', subject,
    message: '<script>window.__xss=2</script>I was charged twice.',
    context: { page: 'javascript:window.__xss=3', app_version: '1.0.0', errors: [{ message: '<svg onload="window.__xss=4">' }] },
  }, `e2e-${Date.now()}`);
  assert.equal(ticket.queue, 'billing_urgent');

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await signIn(page, BILLING, '/tickets');
  await gotoHydrated(page, '/tickets');
  const row = page.getByRole('link', { name: `#${ticket.number} ${subject}` });
  await row.waitFor();
  await row.click();
  await page.waitForURL((u) => u.pathname === `/tickets/${ticket.id}`);
  await gotoHydrated(page, `/tickets/${ticket.id}`);
  await page.getByRole('heading', { level: 1, name: `#${ticket.number} ${subject}` }).waitFor();
  await page.getByText('<script>window.__xss=2</script>I was charged twice.').waitFor();
  await page.getByText('<svg onload="window.__xss=4">').waitFor();
  assert.equal(await page.locator('main img, main script, main svg[onload]').count(), 0, 'no markup from the ticket became elements');
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'no injected code ran');
  assert.deepEqual(dialogs, []);

  // Billing staff reply; the ticket waits on the customer and the thread shows the reply.
  await page.getByLabel('Reply or note').fill('Refunded the second charge.');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved. The ticket is now Pending.').waitFor();
  await page.getByText('Refunded the second charge.').waitFor();
  await screenshot(page, 'ticket');

  // At phone width the page still reads without sideways scrolling.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `no horizontal scroll at 390 px (${overflow} px)`);
  await page.close();
});
