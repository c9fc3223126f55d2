// The page loads into the login screen without a single console error (a broken wasm-opt or a CSP violation
// shows up here first), and its Content-Security-Policy forbids inline script.
import assert from 'node:assert/strict';
import { test } from '../harness.mjs';

test('page load: login screen, no console error, strict CSP', async ({ page, baseURL, shot }) => {
  await page.goto(baseURL);
  const address = page.getByLabel('Address', { exact: true });
  await address.waitFor();
  await page.getByLabel('Password', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  // Everything the page asked for has arrived (config.json included), so late console errors are caught too.
  await page.waitForLoadState('networkidle');

  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  assert.ok(csp, 'a Content-Security-Policy meta tag is present');
  const scriptSrc = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src'));
  assert.ok(scriptSrc, `CSP has a script-src directive: ${csp}`);
  assert.doesNotMatch(scriptSrc, /'unsafe-inline'|'unsafe-eval'/, 'script-src allows no inline script or eval');
  const inline = await page.locator('script:not([src])').count();
  assert.equal(inline, 0, 'no inline <script> in the page');

  await shot('e2e-login');

  // "Advanced" discloses the server URL field.
  const serverUrl = page.getByLabel('Server URL', { exact: true });
  assert.equal(await serverUrl.isVisible(), false, 'Server URL is tucked away under Advanced');
  await page.getByText('Advanced', { exact: true }).click();
  await serverUrl.waitFor();
  assert.equal(await address.inputValue(), '', 'the Address field starts empty');
});
