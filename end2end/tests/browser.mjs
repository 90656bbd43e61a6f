// Shared browser set-up: Debian's Chromium (never a downloaded build), flags that keep it off
// the network, the base URL of the server under test and the staff accounts the test script
// created for it.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:3000';
export const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');
export const PASSWORD = process.env.E2E_PASSWORD;
export const ADMIN = process.env.E2E_ADMIN;
export const VIEWER = process.env.E2E_VIEWER;
export const BILLING = process.env.E2E_BILLING;
export const SUPPORT = process.env.E2E_SUPPORT;
// The demo (DEMO_MODE, seed-demo), as the README's first command runs it: the journeys' server.
export const DEMO_URL = process.env.DEMO_URL;

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

// Navigates and waits until the WASM bundle has loaded and the network is quiet.
export async function gotoHydrated(page, path, base = BASE_URL) {
  const wasm = page.waitForResponse((r) => r.url().endsWith('.wasm') && r.ok());
  await page.goto(base + path);
  await wasm;
  await page.waitForLoadState('networkidle');
}

// Signs in through the login form, as a person would, and waits for the destination page.
export async function signIn(page, email, next = '/', base = BASE_URL) {
  await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([
    page.waitForURL((url) => url.pathname === next),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  await page.waitForLoadState('networkidle');
}
