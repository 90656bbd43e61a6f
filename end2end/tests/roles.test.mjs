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

// Other spellings of a staff page (a trailing slash, doubled slashes, dot segments, an
// encoded letter, capitals) once reached a fallback that rendered the page without the guard.
// Each must land on the one spelling the guard knows: sign-in for nobody, 403 for a viewer,
// the page itself for an admin. No audit entry (they name the admin's email) may show before.
const SPELLINGS = ['/audit/', '//audit', '/audit//', '/./audit', '/x/../audit', '/%61udit', '/AUDIT', '/Audit/'];

test('every spelling of the audit log is the audit log, behind the same check', async () => {
  const anon = await browser.newPage();
  for (const path of SPELLINGS) {
    const res = await anon.goto(BASE_URL + path);
    assert.equal(new URL(anon.url()).pathname, '/login', `${path} signed out`);
    assert.ok(res.status() < 400, `${path}: ${res.status()}`);
    assert.ok(!(await anon.content()).includes(ADMIN), `${path} shows no audit entry signed out`);
  }
  await anon.close();

  const viewer = await browser.newPage();
  await signIn(viewer, VIEWER);
  for (const path of SPELLINGS) {
    const res = await viewer.goto(BASE_URL + path);
    assert.equal(res.status(), 403, `${path} as viewer`);
    assert.ok(!(await viewer.content()).includes(ADMIN), `${path} shows the viewer no audit entry`);
  }
  await viewer.close();

  const admin = await browser.newPage();
  await signIn(admin, ADMIN);
  for (const path of SPELLINGS) {
    await admin.goto(BASE_URL + path);
    assert.equal(new URL(admin.url()).pathname, '/audit', `${path} as admin`);
    await admin.getByRole('table').waitFor();
  }
  await admin.close();
});

test('an unknown address is a plain 404 that shows nothing of the app', async () => {
  const page = await browser.newPage();
  await signIn(page, ADMIN);
  const res = await page.goto(BASE_URL + '/audit/extra');
  assert.equal(res.status(), 404);
  assert.equal((await page.getByRole('heading', { level: 1 }).textContent()).trim(), 'Page not found');
  assert.ok(!(await page.content()).includes(ADMIN), 'no audit entry on a 404');
  await page.close();
});
