/**
 * Real Chromium for the browser tests: Debian's /usr/bin/chromium (CHROMIUM_PATH to change)
 * driven by playwright-core, a throwaway profile, and the README's screenshots on demand.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// The flags this machine needs: no sandbox as root, and no background traffic to a closed network.
export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** SCREENSHOTS=1 writes a picture of every page to docs/screenshots for the README. */
const screenshotDir = process.env.SCREENSHOTS === '1' ? path.resolve(import.meta.dirname, '../../docs/screenshots') : null;

export const viewport = { width: 1280, height: 900 };

/** A persistent Chromium context in a fresh profile folder; `close()` removes the folder too. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'simcast-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, headless: true, args: chromiumArgs, viewport, locale: 'ru-RU' });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A browser without a persistent profile: each `newContext()` has its own cookies (two people at once). */
export function launchPlainBrowser() {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
}

/** Saves a full-page screenshot as docs/screenshots/<name>.png when SCREENSHOTS=1. */
export async function shot(page: Page, name: string): Promise<void> {
  if (!screenshotDir) return;
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/** Logs in through the login page, as a person does, and waits for the campaigns page. */
export async function logIn(page: Page, base: string, login: string, password: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByLabel('Логин').fill(login);
  await page.getByLabel('Пароль').fill(password);
  await page.getByRole('button', { name: 'Войти' }).click();
  await page.waitForURL(/\/campaigns$/);
}
