import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, screenshot, signIn, ADMIN, VIEWER } from './browser.mjs';

// scripts/test.sh plants one dead job of a kind no handler knows (E2E_DEAD_JOB).
const DEAD_JOB = process.env.E2E_DEAD_JOB;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('an admin finds a dead job, reads why, and retries it; the retry really runs', async () => {
  assert.ok(DEAD_JOB, 'E2E_DEAD_JOB is set by scripts/test.sh');
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, ADMIN, '/jobs');
  await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
  // The dead count links to the filtered list (the workers need a moment after start-up).
  const deadLink = page.getByRole('table').first().getByRole('row').filter({ hasText: 'e2e.unregistered' }).getByRole('link', { name: '1', exact: true });
  for (let i = 0; i < 20 && (await deadLink.count()) === 0; i++) {
    await page.waitForTimeout(250);
    await page.reload();
  }
  await deadLink.click();
  await page.waitForURL((u) => u.searchParams.get('status') === 'dead');
  await screenshot(page, 'jobs');
  await page.getByRole('link', { name: DEAD_JOB }).click();
  await page.waitForURL((u) => u.pathname === `/jobs/${DEAD_JOB}`);
  await page.waitForLoadState('networkidle');
  await page.getByText('no handler is registered').first().waitFor();
  assert.equal(await page.getByText('supersecret').count(), 0, 'secrets stay redacted');

  await page.getByRole('button', { name: 'Retry now' }).click();
  await page.getByRole('button', { name: 'Run it now' }).click();
  await page.getByRole('status').filter({ hasText: 'Queued to run now.' }).waitFor();
  // The server's workers pick it up again; it has no handler, so a second attempt is recorded.
  for (let i = 0; i < 40; i++) {
    await page.reload();
    if ((await page.getByRole('table').last().getByRole('row').count()) >= 3) break;
    await page.waitForTimeout(250);
  }
  assert.equal(await page.getByRole('table').last().getByRole('row').count(), 3, 'header + two attempts');
  await page.close();
});

test('a viewer sees jobs but no actions', async () => {
  const page = await browser.newPage();
  await signIn(page, VIEWER, `/jobs/${DEAD_JOB}`);
  await page.getByRole('heading', { name: DEAD_JOB }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Retry now' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Cancel job' }).count(), 0);
  await page.close();
});
