// The five minutes, in one go, on a server that requires signed
// requests: sign in, create a stream, start the demo, run a tumbling query
// and see rows arrive, deploy it into the stream, watch the rows land
// there, deliver that stream to S3 with a delivery stream, and see
// deliveries counted. The Go test (console_journey_test.go) reads the
// delivered objects from the real S3 server.
'use strict';

module.exports = async ({ page, env, assert, log }) => {
  const step = (what) => process.stderr.write(`journey.spec: ${new Date().toISOString()} ${what}\n`);
  const { SPEC_KEY_ID: keyID, SPEC_SECRET: secret, SPEC_BUCKET: bucket } = env;
  const bars = 'journey_bars';
  const ticker = 'journey_ticker';
  const app = 'journey_app';
  const delivery = 'journey_delivery';

  step('sign in');
  await page.goto('./');
  const signIn = page.getByRole('form', { name: 'Sign in' });
  await signIn.getByLabel('Access key ID').fill(keyID);
  await signIn.getByLabel('Secret access key').fill(secret);
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();

  step('create a stream');
  await page.goto('./#/streams');
  await page.getByRole('button', { name: 'Create stream' }).click();
  const create = page.getByRole('dialog', { name: 'Create stream' });
  await create.getByLabel('Name').fill(bars);
  await create.getByLabel('Capacity mode').selectOption('PROVISIONED');
  await create.getByLabel('Shard count', { exact: true }).fill('1');
  await create.getByRole('button', { name: 'Create', exact: true }).click();
  await create.waitFor({ state: 'detached' });
  await page.getByRole('table', { name: 'Streams' }).getByRole('row').filter({ hasText: bars }).getByText('ACTIVE').waitFor();

  step('start the demo');
  await page.goto('./#/sql');
  await page.getByLabel('Demo stream name').fill(ticker);
  await page.getByRole('button', { name: 'Create demo stream' }).click();
  await page.getByText(`The server feeds ${ticker}`).waitFor();
  await page.getByRole('table', { name: 'Proposed schema' }).waitFor({ timeout: 60000 });

  step('run a tumbling query');
  await page.getByLabel('Template').selectOption('tumbling');
  await page.waitForFunction(() => document.querySelector('p.validation')?.textContent.startsWith('Valid: '), undefined, { timeout: 30000 });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const results = page.getByRole('table', { name: 'Result rows' });
  await results.locator('tbody tr').first().waitFor({ timeout: 90000 });
  log({ firstRow: await results.locator('tbody tr').first().locator('td').allInnerTexts() });
  await page.getByRole('button', { name: 'Stop', exact: true }).click();

  step('deploy it');
  await page.getByRole('button', { name: 'Deploy…' }).click();
  const deploy = page.getByRole('dialog', { name: 'Deploy as an application' });
  await deploy.getByLabel('Application name').fill(app);
  await deploy.getByLabel('Destination', { exact: true }).selectOption(bars);
  await deploy.getByRole('button', { name: 'Deploy' }).click();
  await page.getByRole('heading', { level: 1, name: 'SQL applications' }).waitFor({ timeout: 60000 });
  await page.getByRole('table', { name: 'Applications' }).locator('tbody tr', { hasText: app }).getByText('RUNNING', { exact: true }).waitFor();

  step('watch the output stream');
  await page.goto(`./#/streams/${bars}`);
  const browser = page.getByRole('region', { name: 'Record browser' });
  await browser.getByLabel('Start position').selectOption('TRIM_HORIZON');
  await browser.getByRole('button', { name: 'Start reading' }).click();
  const row = browser.getByRole('table', { name: 'Records' }).getByRole('row').nth(1);
  await row.waitFor({ timeout: 90000 });
  const data = JSON.parse(await row.locator('pre.data').textContent());
  assert.ok(typeof data.ticker_symbol === 'string' && data.window_start, `a tumbling row in ${bars}: ${JSON.stringify(data)}`);
  log({ outputRow: data });

  step('deliver the stream to S3');
  await page.goto('./#/firehose');
  await page.getByRole('link', { name: 'Create delivery stream' }).click();
  const form = page.getByRole('form', { name: 'Create delivery stream' });
  await form.getByLabel('Name').fill(delivery);
  await form.getByLabel('Records come from').selectOption('kinesis');
  await form.getByLabel(/^Kinesis stream/).selectOption(bars);
  await form.getByLabel('Deliver to').selectOption('s3');
  await form.getByLabel('Bucket').fill(bucket);
  await form.getByLabel('Prefix', { exact: true }).fill('journey/');
  await form.getByLabel('Buffer size (MiB)').fill('1');
  await form.getByLabel('Buffer interval (seconds)').fill('1');
  await form.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { level: 1, name: delivery }).waitFor();
  await page.getByRole('region', { name: 'Last delivery errors' }).getByText('None').waitFor();
  log({ created: delivery });
};
