import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { launch, screenshot, signIn, gotoHydrated, ADMIN, BASE_URL } from './browser.mjs';

const SECRET = process.env.E2E_STRIPE_WEBHOOK_SECRET;

// Stripe's documented signing scheme, with Node's crypto.
async function deliver(id, type, created, object) {
  const body = JSON.stringify({ id, object: 'event', type, livemode: false, created, data: { object } });
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex');
  const res = await fetch(`${BASE_URL}/api/webhooks/stripe`, {
    method: 'POST', headers: { 'stripe-signature': `t=${t},v1=${v1}` }, body,
  });
  assert.equal(res.status, 200);
}

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('"/" searches as you type; the timeline filters by source and loads more', async () => {
  // A customer with 60 payments: more than one page of history.
  const stamp = Date.now();
  const cus = `cus_tl${stamp}`;
  const now = Math.floor(stamp / 1000);
  await deliver(`evt_tlc${stamp}`, 'customer.created', now - 100_000, {
    id: cus, object: 'customer', email: `lin.${stamp}@e2e.example.com`, name: 'Lin Timeline', metadata: {},
  });
  for (let i = 0; i < 60; i++) {
    await deliver(`evt_tl${stamp}_${i}`, 'charge.succeeded', now - 90_000 + i * 60, {
      id: `ch_tl${stamp}_${i}`, object: 'charge', customer: cus, amount: 1000 + i, amount_refunded: 0,
      currency: 'usd', status: 'succeeded', paid: true, refunded: false, disputed: false, created: now - 90_000 + i * 60,
    });
  }

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, ADMIN, '/customers');
  await gotoHydrated(page, '/customers');
  await page.keyboard.press('/');
  const box = page.getByLabel('Search', { exact: true });
  assert.ok(await box.evaluate((el) => el === document.activeElement), '"/" focuses the search box');
  await page.keyboard.type(`lin.${stamp}`);
  await page.waitForURL((u) => u.search.includes(`q=lin.${stamp}`));
  const link = page.getByRole('link', { name: 'Lin Timeline' });
  for (let i = 0; i < 40 && (await link.count()) === 0; i++) {
    // The server's workers apply the events; the search catches up.
    await page.waitForTimeout(250);
    await box.fill('');
    await box.pressSequentially(`lin.${stamp}`);
  }
  await link.click();
  await page.waitForURL((u) => u.pathname.startsWith('/customers/cust_'));
  const path = new URL(page.url()).pathname;

  // Wait until every payment is on the timeline, then read it as a person would.
  const items = page.locator('.timeline > li');
  for (let i = 0; i < 40; i++) {
    await gotoHydrated(page, `${path}?tl=billing`);
    if ((await items.count()) === 50 && (await page.getByRole('button', { name: 'Load more' }).count()) === 1) break;
    await page.waitForTimeout(250);
  }
  assert.equal(await items.count(), 50, 'one page of 50');
  await page.getByRole('link', { name: 'Billing', exact: true }).and(page.locator('[aria-current="page"]')).waitFor();
  await page.getByRole('button', { name: 'Load more' }).click();
  await page.waitForFunction(() => document.querySelectorAll('.timeline > li').length === 61);
  assert.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0, 'nothing more to load');
  const exact = await items.first().locator('time').getAttribute('title');
  assert.match(exact, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/, 'the exact UTC time is on hover');
  await screenshot(page, 'customer-timeline');

  // The customer page reads at phone width without sideways scrolling.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `no horizontal scroll at 390 px (${overflow} px)`);
  await screenshot(page, 'customer-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  await page.getByRole('link', { name: 'Staff actions' }).click();
  await page.waitForURL((u) => u.search.includes('tl=staff'));
  await page.getByText('Nothing from this source yet.').waitFor();
  await page.close();
});
