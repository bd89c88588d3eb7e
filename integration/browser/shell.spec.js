// The console's frame: it loads from the binary, every area is one click
// (or Tab and Enter) away, and an unknown route says so.
'use strict';

module.exports = async ({ page, assert, a11y }) => {
  await page.goto('./');
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const name of ['Streams', 'Delivery streams', 'SQL', 'Functions']) {
    await nav.getByRole('link', { name, exact: true }).click();
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    assert.equal(await nav.getByRole('link', { name, exact: true }).getAttribute('aria-current'), 'page', `${name} is the current area`);
    await a11y(name);
  }
  // Keyboard: the first link of the navigation is reachable with Tab.
  await page.goto('./#/streams');
  // A hash change keeps the focus where the clicks above left it (the
  // last navigation link): load the page again to start from its top.
  await page.reload();
  await page.getByRole('heading', { name: 'Streams' }).waitFor();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.textContent);
  assert.ok(['Streams', 'Spate'].includes(focused.trim()), `Tab reaches the navigation, focused ${focused}`);
  await page.goto('./#/no/such/page');
  await page.getByRole('heading', { name: 'Not found' }).waitFor();
  // A malformed escape in a name (a link cut short) is not found either:
  // it must not throw in the router and blank the page.
  await page.goto('./#/streams');
  await page.getByRole('heading', { name: 'Streams' }).waitFor();
  await page.goto('./#/streams/orders%E0%A4%A');
  await page.getByRole('heading', { name: 'Not found' }).waitFor();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();

  // A list whose load takes longer than its refresh interval (5 s for the
  // streams) still shows: the refresh waits for the load in flight rather
  // than aborting it and starting again, forever.
  const api = (url) => url.pathname === '/';
  await page.route(
    api,
    async (route) => {
      if (route.request().headers()['x-amz-target'] === 'Kinesis_20131202.ListStreams') {
        await new Promise((r) => setTimeout(r, 6000));
      }
      await route.continue().catch(() => {}); // the page may have aborted it
    },
  );
  await page.goto('./#/streams');
  await page.getByText('No streams yet').waitFor({ timeout: 20000 });
  await page.unroute(api);
};
