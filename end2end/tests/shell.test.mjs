import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, BASE_URL, gotoHydrated, screenshot, signIn, ADMIN, VIEWER } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the overview is server-rendered and its status check works once hydrated', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });

  await signIn(page, ADMIN);
  await gotoHydrated(page, '/');
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Overview');
  assert.equal(await page.locator('.status-panel .summary').textContent(), 'All systems ready');

  const request = page.waitForRequest((r) => r.url().endsWith('/api/fn/system_status') && r.method() === 'POST');
  const response = page.waitForResponse((r) => r.url().endsWith('/api/fn/system_status'));
  await page.getByRole('button', { name: 'Check again' }).click();
  await request;
  assert.equal((await response).status(), 200);
  await page.getByRole('button', { name: 'Check again' }).waitFor();
  assert.equal(await page.locator('.status-panel .summary').textContent(), 'All systems ready');
  assert.deepEqual(errors, [], 'no script errors (a CSP violation would show here)');
  await screenshot(page, 'overview');
  await page.close();
});

test('without the WASM bundle the same button does nothing (the check above needs hydration)', async () => {
  const page = await browser.newPage();
  await page.route('**/*.wasm', (route) => route.abort());
  await signIn(page, VIEWER); // the sign-in form works without WASM: a plain form post
  await page.goto(BASE_URL + '/');
  await page.waitForLoadState('networkidle');
  let called = false;
  page.on('request', (r) => { if (r.url().includes('/api/fn/system_status')) called = true; });
  await page.getByRole('button', { name: 'Check again' }).click();
  await page.waitForTimeout(1500);
  assert.equal(called, false);
  await page.close();
});

test('the layout reads at phone width and the 404 page is styled', async () => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await signIn(page, VIEWER);
  await gotoHydrated(page, '/');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px at 390px`);
  await screenshot(page, 'overview-phone');

  const res = await page.goto(BASE_URL + '/no/such/page');
  assert.equal(res.status(), 404);
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Page not found');
  const bg = await page.evaluate(() => getComputedStyle(document.querySelector('.button')).backgroundColor);
  assert.notEqual(bg, 'rgba(0, 0, 0, 0)', 'stylesheet applied');
  await page.close();
});

test('the skip link is the first stop for keyboard users', async () => {
  const page = await browser.newPage();
  await gotoHydrated(page, '/login');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement?.textContent);
  assert.equal(focused, 'Skip to content');
  await page.close();
});
