// The Functions pages: the list, a zip uploaded from a file input (and the
// function deleted again), a function's configuration (environment
// variable names, never values), a test invoke, and event source mappings
// created, disabled, enabled and deleted from the page. Run by TestConsoleFunctions, which created the
// function console-fn and the streams console-fn-in (holding SPEC_RECORDS
// records) and console-fn-other.
'use strict';

module.exports = async ({ page, assert, shot, a11y, env, log }) => {
  await page.goto('./#/functions');
  const list = page.getByRole('table', { name: 'Functions' });
  await list.getByRole('link', { name: 'console-fn', exact: true }).waitFor();

  // Upload a zip from the browser.
  await page.getByRole('button', { name: 'Create function' }).click();
  const create = page.getByRole('dialog', { name: 'Create function' });
  await create.getByLabel('Code (.zip)').setInputFiles(env.SPEC_ZIP);
  await create.getByLabel('Memory (MB)').fill('256');
  // A name taken: Lambda's error type (from X-Amzn-ErrorType, not the
  // body's Type "User") in the dialog.
  await create.getByLabel('Function name').fill('console-fn');
  await create.getByRole('button', { name: 'Create', exact: true }).click();
  assert.match(await create.getByRole('alert').innerText(), /^ResourceConflictException: /);
  await create.getByLabel('Function name').fill('console-upload');
  await create.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'console-upload' }).waitFor();
  const uploaded = page.getByRole('region', { name: 'Configuration' });
  await uploaded.getByText('256 MB').waitFor();
  await uploaded.getByText('Active').waitFor();
  const sha = await uploaded.locator('dt:has-text("Code SHA-256") + dd').innerText();
  log({ uploadedSha256: sha.trim() });

  await page.goto('./#/functions');
  await list.getByRole('link', { name: 'console-upload' }).waitFor();
  const row = list.getByRole('row', { name: /console-fn\b/ }).first();
  assert.match(await row.innerText(), /provided\.al2023\s+bootstrap\s+128\s+3\s+.+\s+Active/);
  await a11y('functions list');
  await shot('functions-list');

  // The function's page: environment variable names, not values.
  await list.getByRole('link', { name: 'console-fn', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'console-fn' }).waitFor();
  const envVars = page.getByRole('region', { name: 'Environment variables' });
  await envVars.getByText('API_TOKEN').waitFor();
  await envVars.getByText('OUTPUT_FILE').waitFor();
  assert.ok(!(await page.content()).includes(env.SPEC_SECRET_VALUE), 'an environment value is shown');

  // Test invoke: the handler's answer and its log tail.
  const inv = page.getByRole('region', { name: 'Test invoke' });
  const event = {
    Records: [{ eventSource: 'aws:kinesis', kinesis: { partitionKey: 'pk', sequenceNumber: '1', data: Buffer.from('{"hello":"console"}').toString('base64') } }],
  };
  await inv.getByLabel('Event (JSON)').fill(JSON.stringify(event));
  await inv.getByRole('button', { name: 'Invoke' }).click();
  await inv.getByRole('status').getByText('Succeeded').waitFor();
  const response = JSON.parse(await inv.getByLabel('Response', { exact: true }).innerText());
  assert.deepEqual(response, { batchItemFailures: [] }, 'the handler answers an empty batchItemFailures');
  assert.match(await inv.getByLabel('Log tail', { exact: true }).innerText(), /processed 1 of 1 records/);

  // A mapping from a stream, and a second one deleted again.
  const maps = page.getByRole('region', { name: 'Event source mappings' });
  const addMapping = async (stream, batch) => {
    await maps.getByRole('button', { name: 'Add mapping' }).click();
    const d = page.getByRole('dialog', { name: 'Add event source mapping' });
    await d.getByLabel('Stream').selectOption({ label: stream });
    await d.getByLabel('Batch size').fill(String(batch));
    await d.getByLabel('Starting position').selectOption('TRIM_HORIZON');
    await d.getByRole('button', { name: 'Add mapping' }).click();
    await d.waitFor({ state: 'detached' });
  };
  const table = maps.getByRole('table', { name: 'Event source mappings' });
  const mappingRow = (stream) => table.getByRole('row').filter({ has: page.getByRole('link', { name: stream, exact: true }) });
  await addMapping('console-fn-other', 5);
  await addMapping('console-fn-in', 10);
  await mappingRow('console-fn-other').getByText('Enabled').waitFor();
  await mappingRow('console-fn-other').getByRole('button', { name: 'Delete' }).click();
  const del = page.getByRole('dialog', { name: 'Delete event source mapping?' });
  await del.getByRole('button', { name: 'Delete' }).click();
  await del.waitFor({ state: 'detached' }); // stays open with the error on failure
  await mappingRow('console-fn-other').waitFor({ state: 'detached' });

  const m = mappingRow('console-fn-in');
  await m.getByText('Enabled').waitFor();
  assert.match(await m.innerText(), /Enabled\s+10\s+TRIM_HORIZON/);
  // The stream's records were processed: Lambda's LastProcessingResult.
  await m.getByText('OK', { exact: true }).waitFor();
  await m.getByRole('button', { name: 'Disable' }).click();
  await m.getByText('Disabled', { exact: true }).waitFor();
  await m.getByRole('button', { name: 'Enable' }).click();
  await m.getByText('Enabled', { exact: true }).waitFor();

  // Metrics: the invocations counted (GET /v1/metrics).
  const metrics = page.getByRole('region', { name: 'Metrics' });
  const invocations = metrics.locator('[data-metric="invocations"]');
  await page.waitForFunction((el) => Number(el.textContent.replace(/,/g, '')) >= 2, await invocations.elementHandle());
  assert.equal(await metrics.locator('[data-metric="errors"]').innerText(), '0');
  // A few more test invokes while the charts gather points, for the
  // screenshot: a chart of two points says little.
  const points = () => metrics.locator('[data-points]').getAttribute('data-points').then(Number);
  for (let n = await points(); n < 8; n = await points()) {
    await inv.getByRole('button', { name: 'Invoke' }).click();
    await inv.getByRole('status').getByText('Succeeded').waitFor();
    await page.waitForFunction((prev) => Number(document.querySelector('[data-points]').dataset.points) > prev, n);
  }
  await a11y('function page');
  await page.evaluate(() => window.scrollTo(0, 0)); // the configuration and the charts
  await shot('function-detail');

  // Delete the uploaded function from its page.
  await page.goto('./#/functions/console-upload');
  await page.getByRole('button', { name: 'Delete function' }).click();
  await page.getByRole('dialog', { name: 'Delete function console-upload?' }).getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('heading', { level: 1, name: 'Functions' }).waitFor();
  await list.getByRole('link', { name: 'console-fn', exact: true }).waitFor();
  assert.equal(await list.getByRole('link', { name: 'console-upload' }).count(), 0, 'the deleted function is listed');
};
