// With --credentials, the Streams pages sign every call: the stream's page
// lists its shards (kinesis), its charts draw from GET /v1/metrics
// (signing name monitoring) and the record browser reads (kinesis). A
// profile without cloudwatch:GetMetricData sees the charts refused, and
// the rest of the page still works.
'use strict';

async function signIn(page, id, secret) {
  await page.goto('./');
  const form = page.getByRole('form', { name: 'Sign in' });
  await form.getByLabel('Access key ID').fill(id);
  await form.getByLabel('Secret access key').fill(secret);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

module.exports = async ({ page, env, assert }) => {
  const name = env.SPEC_STREAM;
  await signIn(page, env.SPEC_KEY_ID, env.SPEC_SECRET);
  await page.goto(`./#/streams/${name}`);
  await page.getByRole('heading', { name: `Stream ${name}` }).waitFor();
  await page.getByRole('table', { name: 'Shards' }).getByText('shardId-000000000000').waitFor();
  const box = page.locator('.chart-box[data-metric="spate_shard_incoming_records_total"]');
  await page.waitForFunction(
    () => {
      const b = document.querySelector('.chart-box[data-metric="spate_shard_incoming_records_total"]');
      return b && Number(b.dataset.series) >= 1 && Number(b.dataset.points) >= 2;
    },
    null,
    { timeout: 30000 },
  );
  assert.equal(await box.getByRole('alert').count(), 0, 'no error over the chart');
  const browser = page.getByRole('region', { name: 'Record browser' });
  await browser.getByRole('button', { name: 'Start reading' }).click();
  await browser.getByRole('table', { name: 'Records' }).getByText('signed-key').waitFor();

  // The reader may read the stream but not the metrics.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, 'AKIDREADER', 'reader-secret');
  await page.goto(`./#/streams/${name}`);
  await page.getByRole('table', { name: 'Shards' }).getByText('shardId-000000000000').waitFor();
  await box.getByRole('alert').filter({ hasText: 'AccessDeniedException' }).waitFor();
};
