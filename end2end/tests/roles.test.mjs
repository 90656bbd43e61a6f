import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, BASE_URL, screenshot, signIn, ADMIN, VIEWER } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const navLinks = async (page) =>
  (await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).map((t) => t.trim());

test('signed out, every page sends you to sign in and comes back after', async () => {
  const page = await browser.newPage();
  await page.goto(BASE_URL + '/audit');
  assert.equal(new URL(page.url()).pathname, '/login');
  await signIn(page, ADMIN, '/audit');
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Audit log');
  await page.close();
});

test('admin and viewer see different menus; the viewer is refused the audit log', async () => {
  const admin = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await signIn(admin, ADMIN);
  assert.deepEqual(await navLinks(admin), ['Overview', 'Customers', 'Tickets', 'Refunds', 'CRM', 'Jobs', 'Webhooks', 'Audit log', 'Staff', 'API keys', 'Your account']);
  await admin.getByRole('link', { name: 'Audit log' }).click();
  await admin.waitForURL((u) => u.pathname === '/audit');
  await admin.getByRole('table').waitFor();
  const actions = await admin.locator('.audit-table tbody td code').allTextContents();
  assert.ok(actions.includes('auth.login'), `sign-ins are audited: ${actions}`);
  await screenshot(admin, 'audit-log');
  await admin.close();

  const viewer = await browser.newPage();
  await signIn(viewer, VIEWER);
  assert.deepEqual(await navLinks(viewer), ['Overview', 'Customers', 'Tickets', 'Refunds', 'CRM', 'Jobs', 'Webhooks', 'Your account']);
  const res = await viewer.goto(BASE_URL + '/audit');
  assert.equal(res.status(), 403);
  assert.match(await viewer.getByRole('heading', { level: 1 }).textContent(), /do not have access/);
  await viewer.close();
});

test('a wrong password shows one generic message', async () => {
  const page = await browser.newPage();
  await page.goto(BASE_URL + '/login');
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Email').fill(ADMIN);
  await page.getByLabel('Password').fill('definitely-not-it');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  assert.equal((await page.getByRole('alert').textContent()).trim(), 'Wrong email or password.');
  await page.close();
});
