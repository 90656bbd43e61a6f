import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, BASE_URL, screenshot, signIn, ADMIN } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('an admin invites a support agent, who sets a password through the link and signs in', async () => {
  const admin = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(admin, ADMIN, '/staff');
  const email = `agent-${Date.now()}@e2e.example.com`;
  await admin.getByLabel('Email').fill(email);
  await admin.getByLabel('Name').fill('Agent Smith');
  await admin.getByLabel('Role', { exact: true }).selectOption('support');
  await admin.getByRole('button', { name: 'Create invite link' }).click();
  const linkField = admin.getByRole('textbox', { name: 'One-time link' });
  await linkField.waitFor();
  const link = await linkField.inputValue();
  assert.match(link, /\/welcome\?token=[0-9a-f]{64}$/);
  await admin.getByRole('cell', { name: email, exact: true }).waitFor();
  await screenshot(admin, 'staff');

  const agent = await browser.newPage();
  await agent.goto(BASE_URL + new URL(link).pathname + new URL(link).search);
  await agent.getByLabel('New password').fill('agent-lantern-harbor-3');
  await Promise.all([
    agent.waitForURL((u) => u.pathname === '/'),
    agent.getByRole('button', { name: 'Set password and sign in' }).click(),
  ]);
  await agent.waitForLoadState('networkidle');
  const nav = (await agent.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).map((t) => t.trim());
  assert.deepEqual(nav, ['Overview', 'Customers', 'Tickets', 'Refunds', 'CRM', 'Jobs', 'Webhooks', 'Your account']);

  // Deactivation asks first, then ends the agent's session at once.
  await admin.reload();
  await admin.waitForLoadState('networkidle');
  const row = admin.getByRole('row').filter({ hasText: email });
  await row.getByRole('button', { name: 'Deactivate' }).click();
  assert.match(await row.getByRole('alert').textContent(), /signed out everywhere/);
  await row.getByRole('button', { name: 'Deactivate now' }).click();
  await row.getByText('Deactivated').waitFor();
  await agent.reload();
  assert.equal(new URL(agent.url()).pathname, '/login');
  await agent.close();
  await admin.close();
});
