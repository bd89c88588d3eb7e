// Runs one end-to-end spec of the web console in Debian's chromium, driven
// by playwright-core: node run.js SPEC.js. The Go test (console_test.go)
// starts the server and passes SPATE_URL (http://host:port) and CHROMIUM
// (the browser's path); SPATE_SCREENSHOTS, when set, is where shot(name)
// writes NAME.png (make console-screenshots: docs/console).
//
// A spec is a CommonJS module exporting async function({page, context,
// baseURL, env, shot, assert, log, a11y}). It fails by throwing. a11y(what)
// runs axe-core (npm, injected from node_modules, not fetched) on the page
// and throws on any serious or critical accessibility violation: missing
// labels, contrast, keyboard traps. The runner also
// fails the spec when the page makes a request outside the server's origin
// (the console must work offline, with no CDN) or throws an uncaught error.
// log(obj) prints one JSON line on stdout for the Go test to read.
'use strict';
const path = require('node:path');
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');

let axe = null;
function axeSource() {
  if (!axe) axe = require('node:fs').readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  return axe;
}

async function main() {
  const spec = process.argv[2];
  if (!spec) throw new Error('usage: node run.js SPEC.js');
  const origin = process.env.SPATE_URL;
  if (!origin) throw new Error('SPATE_URL is not set');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // Root in a container has no user namespace for Chromium's sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  const outside = [];
  const pageErrors = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: origin + '/console/' });
    context.setDefaultTimeout(Number(process.env.SPEC_TIMEOUT_MS || 30000));
    context.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(origin + '/') && !u.startsWith('data:') && !u.startsWith('blob:')) outside.push(u);
    });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e));
    const shot = async (name) => {
      if (process.env.SPATE_SCREENSHOTS) {
        await page.screenshot({ path: path.join(process.env.SPATE_SCREENSHOTS, name + '.png') });
      }
    };
    const log = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
    const a11y = async (what) => {
      if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
        // Evaluated over the DevTools protocol: a <script> tag would be
        // (rightly) refused by the console's Content-Security-Policy.
        await page.evaluate(axeSource());
      }
      const found = await page.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return r.violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
      });
      if (found.length) throw new Error(`accessibility violations on ${what}:\n  ` + found.join('\n  '));
    };
    await require(path.resolve(spec))({ page, context, baseURL: origin + '/console/', env: process.env, shot, assert, log, a11y });
  } finally {
    await browser.close();
  }
  if (outside.length) throw new Error('the page made requests outside the server: ' + outside.join(', '));
  if (pageErrors.length) throw new Error('uncaught errors in the page: ' + pageErrors.map((e) => e.stack || e).join('\n'));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
