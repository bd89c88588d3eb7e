// The Streams area, as a new user goes through it: create a stream in the
// page, turn its shard metrics on, put a record with the form, read the
// records (the Go test puts more) decoded as JSON, find one by partition
// key, watch the shard charts draw, see the parent and children after the
// Go test splits a shard, and delete the stream with its confirm dialog.
//
// The Go test (console_streams_test.go) runs beside it: it puts its
// records once the page has enabled the shard metrics, and splits a shard
// once the page has put a record with the key "split-now".
'use strict';

// eventually retries check (which throws while its condition does not
// hold) until it passes or timeoutMs passes.
async function eventually(check, timeoutMs = 30000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

// chart reads what a shard chart draws: its series, points and largest value.
async function chart(page, metric) {
  const box = page.locator(`.chart-box[data-metric="${metric}"]`);
  return {
    series: Number(await box.getAttribute('data-series')),
    points: Number(await box.getAttribute('data-points')),
    max: Number(await box.getAttribute('data-max')),
    canvas: await box.locator('canvas').count(),
  };
}

module.exports = async ({ page, env, assert, shot, log, a11y }) => {
  const name = env.SPEC_STREAM;
  const nav = page.getByRole('navigation', { name: 'Main' });

  // Create: two shards, 48 hours.
  await page.goto('./#/streams');
  await page.getByRole('button', { name: 'Create stream' }).click();
  const create = page.getByRole('dialog', { name: 'Create stream' });
  await a11y('the create stream dialog');
  await create.getByLabel('Name').fill(name);
  await create.getByLabel('Capacity mode').selectOption('PROVISIONED');
  await create.getByLabel('Shard count', { exact: true }).fill('2');
  await create.getByLabel('Retention (hours)').fill('48');
  await create.getByRole('button', { name: 'Create', exact: true }).click();
  await create.waitFor({ state: 'detached' });
  const row = page.getByRole('table', { name: 'Streams' }).getByRole('row').filter({ hasText: name });
  await eventually(async () => {
    const cells = await row.getByRole('cell').allTextContents();
    assert.deepEqual(cells.slice(0, 5), [name, 'ACTIVE', 'PROVISIONED', '2', '48']);
  });
  await shot('streams-list');
  await a11y('the streams list');

  // The stream's page: two open shards, no lineage yet.
  await row.getByRole('link', { name }).click();
  await page.getByRole('heading', { name: `Stream ${name}` }).waitFor();
  const shards = page.getByRole('table', { name: 'Shards' });
  await eventually(async () => assert.equal(await shards.getByRole('row').count(), 3)); // a header and two shards
  await page.getByRole('button', { name: 'Enable shard metrics' }).click();
  const charts = page.getByRole('region', { name: 'Shard metrics' });
  await charts.getByRole('img', { name: 'Records in per second' }).waitFor();

  // Put a record with the form.
  const put = page.getByRole('form', { name: 'Put a record' });
  await put.getByLabel('Partition key').fill('from-the-page');
  await put.getByLabel('Data').fill('{"hello":"console","n":1}');
  await put.getByRole('button', { name: 'Put record' }).click();
  await put.getByRole('status').filter({ hasText: /Put in shardId-\d+ at sequence number \d+/ }).waitFor();

  // Read every shard from the oldest record: the page's record and the Go
  // test's twenty, decoded as JSON.
  const browser = page.getByRole('region', { name: 'Record browser' });
  await browser.getByLabel('Shard').selectOption('');
  await browser.getByLabel('Start position').selectOption('TRIM_HORIZON');
  await browser.getByRole('button', { name: 'Start reading' }).click();
  const records = browser.getByRole('table', { name: 'Records' });
  await eventually(async () => assert.equal(await records.getByRole('row').count(), 22)); // a header, 1 + 20 records
  const mine = records.getByRole('row').filter({ hasText: 'from-the-page' });
  assert.equal(await mine.locator('pre.data').textContent(), JSON.stringify({ hello: 'console', n: 1 }, null, 2));
  assert.match(await mine.getByRole('cell').first().textContent(), /^shardId-\d{12}$/);
  assert.match(await mine.getByRole('cell').nth(1).textContent(), /^\d{20,}$/);

  await browser.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await shot('stream-records');
  await a11y('the record browser');

  // Find by partition key: only that record stays.
  await browser.getByLabel('Find by partition key').fill('customer-7');
  await eventually(async () => assert.equal(await records.getByRole('row').count(), 2));
  const found = records.getByRole('row').nth(1);
  assert.equal(await found.getByRole('cell').nth(2).textContent(), 'customer-7');
  assert.equal(await found.locator('pre.data').textContent(), JSON.stringify({ amount: 17.5, customer: 'customer-7', order: 7 }, null, 2));
  assert.match(await found.locator('.kind').textContent(), /^json/);
  await browser.getByLabel('Show data as').selectOption('hex');
  assert.match(await found.locator('pre.data').textContent(), /^7b 22 61 6d 6f 75 6e 74 22/); // {"amount"
  await browser.getByLabel('Show data as').selectOption('auto');
  const sevenShard = (await found.getByRole('cell').first().textContent()).trim();
  const sevenSeq = (await found.getByRole('cell').nth(1).textContent()).trim();
  await browser.getByLabel('Find by partition key').fill('');

  // AT_SEQUENCE_NUMBER on one shard starts at that record.
  await browser.getByLabel('Shard').selectOption(sevenShard);
  await browser.getByLabel('Start position').selectOption('AT_SEQUENCE_NUMBER');
  await browser.getByLabel('Sequence number', { exact: true }).fill(sevenSeq);
  await browser.getByRole('button', { name: 'Restart reading' }).click();
  await eventually(async () => assert.equal(await records.getByRole('row').nth(1).getByRole('cell').nth(2).textContent(), 'customer-7'));
  assert.ok((await records.getByRole('row').count()) > 1);

  // AT_TIMESTAMP an hour ago (the form's default) on all shards: every record.
  await browser.getByLabel('Shard').selectOption('');
  await browser.getByLabel('Start position').selectOption('AT_TIMESTAMP');
  await browser.getByLabel('Timestamp', { exact: true }).waitFor();
  await browser.getByRole('button', { name: 'Restart reading' }).click();
  await eventually(async () => assert.equal(await records.getByRole('row').count(), 22));

  // LATEST on all shards: nothing until a new record, which shows while
  // the page tails.
  await browser.getByLabel('Start position').selectOption('LATEST');
  await browser.getByRole('button', { name: 'Restart reading' }).click();
  await browser.getByText(/Reading 2 shards · 0 records read/).waitFor();
  await browser.getByText('No records yet.').waitFor();

  // The charts draw a line per shard; once the Go test has split a shard
  // (on seeing this record), the records in show the put.
  await put.getByLabel('Partition key').fill('split-now');
  await put.getByLabel('Data').fill('not json, just text');
  await put.getByRole('button', { name: 'Put record' }).click();
  await put.getByRole('status').filter({ hasText: /Put in shardId-/ }).waitFor();
  const tailed = records.getByRole('row').filter({ hasText: 'split-now' });
  await tailed.waitFor();
  assert.equal(await tailed.locator('pre.data').textContent(), 'not json, just text');
  assert.match(await tailed.locator('.kind').textContent(), /^text/);
  for (const metric of ['spate_shard_incoming_records_total', 'spate_shard_outgoing_records_total', 'spate_shard_iterator_age_milliseconds']) {
    await eventually(async () => {
      const c = await chart(page, metric);
      assert.ok(c.series >= 1 && c.points >= 2 && c.canvas > 0, `${metric}: ${JSON.stringify(c)}`);
      if (metric !== 'spate_shard_iterator_age_milliseconds') assert.ok(c.max > 0, `${metric} never rose above 0: ${JSON.stringify(c)}`);
    }, 60000);
  }

  // After the split: the parent closed, its two children name it.
  await eventually(async () => assert.equal(await shards.getByRole('row').count(), 5), 60000);
  const parent = shards.getByRole('row').filter({ hasText: 'closed' });
  assert.equal(await parent.count(), 1);
  const parentId = (await parent.getByRole('cell').first().textContent()).trim();
  const children = (await parent.getByRole('cell').last().textContent()).split(', ');
  assert.equal(children.length, 2, `children of ${parentId}: ${children}`);
  let lowerId = null; // the child whose hash key range starts at 0
  for (const c of children) {
    const r = shards.getByRole('row').filter({ hasText: c }).filter({ hasText: 'open' });
    assert.equal((await r.getByRole('cell').nth(5).textContent()).trim(), parentId, `${c}'s parent`);
    if ((await r.getByRole('cell').nth(2).textContent()).trim().startsWith('0 ')) lowerId = c;
  }
  assert.ok(lowerId, `a child of ${parentId} starts at hash key 0`);
  // The reader followed the closed parent into its children: the Go test's
  // record put after the split (at hash key 0) comes from the lower child,
  // and nothing is read twice.
  const after = records.getByRole('row').filter({ hasText: 'after-split' });
  await after.waitFor();
  assert.equal((await after.getByRole('cell').first().textContent()).trim(), lowerId);
  assert.equal(await records.getByRole('row').count(), 3); // a header, split-now, after-split
  await browser.getByText(/1 closed shard read to the end/).waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot('stream-detail');
  await a11y("a stream's page after a split");
  log({ parent: parentId, children });

  // Delete from the list, through the confirm dialog.
  await nav.getByRole('link', { name: 'Streams', exact: true }).click();
  await page.getByRole('button', { name: `Delete stream ${name}` }).click();
  const confirm = page.getByRole('dialog', { name: `Delete stream ${name}?` });
  await a11y('the delete dialog');
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await confirm.waitFor({ state: 'detached' });
  await eventually(async () => assert.equal(await page.getByRole('link', { name }).count(), 0));
};
