// The SQL console, end to end: create the demo stream from the page (the
// server feeds it), read its proposed schema, check that the server
// accepts every template for it, pick the tumbling template, see a
// deliberate error marked at its line, fix it, Run and see rows arrive in
// the table and the chart, Stop, Deploy to a new output stream, and find
// the application RUNNING in the list (stopped and started again from
// there). The Go test (console_sql_test.go) then reads the output stream
// with aws-sdk-go-v2.
'use strict';

// Columns each template's query has for the demo stream (ticker_symbol,
// sector, price, change, event_time): what POST /v1/validate answers.
const templateColumns = {
  filter: 'ticker_symbol, sector, price, change, event_time',
  tumbling: 'ticker_symbol, window_start, records, avg_price, max_price',
  sliding: 'ticker_symbol, window_end, records, min_price, avg_price, max_price',
  session: 'ticker_symbol, session_start, session_end, records, total_change',
  topk: 'ticker_symbol, window_start, records',
  distinct: 'window_start, records, distinct_ticker_symbol',
};

module.exports = async ({ page, shot, assert, env, log, a11y }) => {
  // step says on stderr how far the spec got, for a spec that times out.
  const step = (what) => process.stderr.write(`sql.spec: ${new Date().toISOString()} ${what}\n`);
  const demo = env.SPEC_DEMO;
  const output = env.SPEC_OUTPUT;
  const app = env.SPEC_APP;
  const validation = page.locator('p.validation');
  const editor = page.getByRole('textbox', { name: 'SQL' });
  // validated waits until the script in the editor is the one the server
  // accepted with exactly these columns.
  const validated = async (columns) => {
    await page.waitForFunction(
      (want) => document.querySelector('p.validation')?.textContent === want,
      `Valid: reads ${demo}, columns ${columns}.`,
      { timeout: 30000 },
    );
  };

  await page.goto('./#/sql');
  await page.getByRole('heading', { level: 1, name: 'SQL' }).waitFor();

  step('demo stream');
  // 1. The demo stream, created and fed by the server.
  await page.getByLabel('Demo stream name').fill(demo);
  await page.getByRole('button', { name: 'Create demo stream' }).click();
  await page.getByText(`The server feeds ${demo} with 10 stock trades a second`).waitFor();
  assert.equal(await page.getByLabel('Source stream').inputValue(), demo, 'the new demo stream is the source');

  step('schema');
  // 2. The proposed schema, once the first records are in.
  const schema = page.getByRole('table', { name: 'Proposed schema' });
  await schema.waitFor({ timeout: 60000 });
  const rows = await schema.locator('tbody tr').allInnerTexts();
  const byName = Object.fromEntries(rows.map((r) => r.split('\t')).map((c) => [c[0].trim(), c]));
  for (const [col, type] of [['ticker_symbol', 'VARCHAR'], ['sector', 'VARCHAR'], ['price', 'DOUBLE'], ['change', 'DOUBLE'], ['event_time', 'TIMESTAMP']]) {
    assert.ok(byName[col], `the schema proposes ${col}: ${rows.join(' | ')}`);
    assert.ok(byName[col][1].startsWith(type), `${col} is ${type}: ${byName[col]}`);
    assert.equal(byName[col][2].trim(), `$.${col}`, `${col}'s JSON path`);
  }

  step('templates');
  // 3. Every template, filled with the stream and its columns, is valid.
  const template = page.getByLabel('Template');
  for (const [id, columns] of Object.entries(templateColumns)) {
    await template.selectOption(id);
    await validated(columns);
    log({ template: id, columns });
  }

  step('deliberate error');
  // The tumbling template, then a deliberate mistake on its FROM line.
  await template.selectOption('tumbling');
  await validated(templateColumns.tumbling);
  const lines = page.locator('.cm-content .cm-line');
  const fromLine = (await lines.allInnerTexts()).findIndex((l) => l.startsWith('FROM '));
  assert.ok(fromLine > 0, 'the template has a FROM line');
  const retype = async (text) => {
    await lines.nth(fromLine).click();
    await page.keyboard.press('End');
    await page.keyboard.press('Shift+Home');
    await page.keyboard.insertText(text);
  };
  await retype(`FRM ${demo}`);
  await page.waitForFunction(
    (want) => document.querySelector('p.validation')?.textContent.startsWith(want),
    `Line ${fromLine + 1}, column 1: `,
  );
  const marked = page.locator('.cm-lintRange-error');
  await marked.waitFor();
  assert.equal(await marked.first().innerText(), 'FRM', 'the error marks the offending word');
  const markedLine = await marked.first().evaluate((el) => [...el.closest('.cm-content').children].indexOf(el.closest('.cm-line')));
  assert.equal(markedLine, fromLine, 'the error is marked on its line');
  await page.locator('.cm-gutter-lint .cm-lint-marker-error').waitFor();
  log({ error: await validation.textContent() });
  await page.keyboard.press('Escape'); // closes the completion list typing opened
  await page.getByRole('heading', { name: 'Proposed schema' }).evaluate((el) => el.scrollIntoView());
  await shot('sql-editor');
  await a11y('the SQL editor with an error marked');

  step('fix');
  await retype(`FROM ${demo}`);
  await validated(templateColumns.tumbling);
  assert.equal(await page.locator('.cm-lintRange-error').count(), 0, 'the mark is gone once the SQL is fixed');
  assert.ok((await editor.innerText()).includes('TUMBLE('), 'the editor holds the tumbling query');

  step('run');
  // 4. Run: rows arrive live in the table and the chart.
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const results = page.getByRole('table', { name: 'Result rows' });
  await results.locator('tbody tr').first().waitFor({ timeout: 90000 });
  const header = await results.locator('thead th').allInnerTexts();
  assert.deepEqual(header, templateColumns.tumbling.split(', '), 'the table keeps the query columns in order');
  const first = await results.locator('tbody tr').first().locator('td').allInnerTexts();
  const stamp = JSON.parse(await results.locator('tbody tr').first().locator('td').nth(1).getAttribute('title'));
  assert.match(stamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d0\.000Z$/, 'window_start is a 10-second boundary');
  assert.match(first[1], /(^| )\d\d:\d\d:\d0$/, `window_start is shown as a time of day: ${first[1]}`);
  assert.match(first[3], /^\d{1,3}(,\d{3})*\.\d\d$/, `avg_price is formatted for people: ${first[3]}`);
  await page.getByRole('img', { name: /avg_price|max_price|records/ }).waitFor();
  await page.locator('.chart canvas').first().waitFor();
  await page.getByText(/Running as console-\w+: [\d,]+ rows received\./).waitFor();
  log({ row: first });
  // Rows of a second window: the chart has a line to draw.
  await page.waitForFunction(
    () => new Set([...document.querySelectorAll('table[aria-label="Result rows"] tbody tr')].map((tr) => tr.children[1].textContent)).size > 1,
    undefined,
    { timeout: 60000 },
  );
  await page.locator('p.validation').evaluate((el) => el.scrollIntoView());
  await shot('sql-results');
  await a11y('the SQL results');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await page.getByText(/Stopped: [\d,]+ rows received\./).waitFor();

  step('deploy');
  // 5. Deploy to a new output stream. A list the dialog could not read
  // says why (here ListDeliveryStreams, denied) rather than looking empty.
  const api = (url) => url.pathname === '/';
  await page.route(api, (route) =>
    route.request().headers()['x-amz-target'] === 'Firehose_20150804.ListDeliveryStreams'
      ? route.fulfill({
          status: 400,
          contentType: 'application/x-amz-json-1.1',
          body: JSON.stringify({ __type: 'AccessDeniedException', message: 'not allowed here' }),
        })
      : route.continue(),
  );
  await page.getByRole('button', { name: 'Deploy…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Deploy as an application' });
  await dialog.getByRole('alert').filter({ hasText: 'AccessDeniedException: not allowed here' }).waitFor();
  await page.unroute(api);
  await dialog.getByLabel('Application name').fill(app);
  assert.equal(await dialog.getByLabel('Destination type').inputValue(), 'stream');
  await dialog.getByLabel('New stream name').fill(output);
  await a11y('the deploy dialog');
  await dialog.getByRole('button', { name: 'Deploy' }).click();

  step('applications');
  // 6. The applications: RUNNING, with its counts; stop and start it.
  await page.getByRole('heading', { level: 1, name: 'SQL applications' }).waitFor({ timeout: 60000 });
  const list = page.getByRole('table', { name: 'Applications' });
  const row = list.locator('tbody tr', { hasText: app });
  await row.getByText('RUNNING', { exact: true }).waitFor();
  assert.ok((await row.innerText()).includes(`${demo} → ${output}`), 'the row names source and target');
  await row.getByRole('button', { name: `Stop ${app}` }).click();
  await row.getByText('STOPPED', { exact: true }).waitFor();
  await row.getByRole('button', { name: `Start ${app}` }).click();
  await row.getByText('RUNNING', { exact: true }).waitFor();
  // Wait for it to have read some rows, so the picture shows work done.
  await page.waitForFunction(
    (name) => {
      const r = [...document.querySelectorAll('table[aria-label="Applications"] tbody tr')].find((tr) => tr.textContent.includes(name));
      return r && Number(r.querySelectorAll('td')[2]?.textContent.replace(/,/g, '')) > 0;
    },
    app,
    { timeout: 60000 },
  );
  await shot('sql-applications');
  await a11y('the SQL applications');
  // Delete, confirmed in a dialog: an application made for it goes.
  await page.evaluate(
    (sql) => fetch('/v1/applications', { method: 'POST', body: JSON.stringify({ name: 'scratch', sql }) }).then((r) => r.ok || r.text()),
    `SELECT price FROM ${demo}`,
  );
  const scratch = list.locator('tbody tr', { hasText: 'scratch' });
  await scratch.getByRole('button', { name: 'Delete scratch' }).click();
  await page.getByRole('dialog', { name: 'Delete scratch?' }).getByRole('button', { name: 'Delete' }).click();
  await scratch.waitFor({ state: 'detached' });
  // The temporary application of Run is gone.
  assert.equal(await list.locator('tbody tr', { hasText: 'console-' }).count(), 0, 'Stop deleted the temporary application');
  log({ deployed: app, output });
};
