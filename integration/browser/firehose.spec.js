// Delivery streams in the console: create an S3 delivery stream in the
// page, put records in the page (the Go test finds them in the bucket), see
// a second delivery stream's delivery error (its bucket does not exist),
// delete it, and create an Elasticsearch delivery stream and one that reads
// a Kinesis stream (the Go test checks what they deliver).
'use strict';

module.exports = async ({ page, assert, env, shot, log, a11y }) => {
  // Pages of one: every list the console shows must follow ListStreams'
  // NextToken and ListDeliveryStreams' ExclusiveStartDeliveryStreamName,
  // not stop at the first page (the Go test makes a stream that sorts
  // before SPEC_STREAM, so the Kinesis source list needs its second page).
  const paged = new Set(['Kinesis_20131202.ListStreams', 'Firehose_20150804.ListDeliveryStreams']);
  await page.route(
    (url) => url.pathname === '/',
    (route) => {
      const r = route.request();
      if (!paged.has(r.headers()['x-amz-target'])) return route.continue();
      const input = JSON.parse(r.postData() || '{}');
      if (!input.NextToken) input.Limit = 1;
      return route.continue({ postData: JSON.stringify(input) });
    },
  );

  // create fills the create form: fill(form) sets what differs from the
  // defaults below.
  const create = async (name, fill, { shoot } = {}) => {
    await page.goto('./#/firehose');
    await page.getByRole('link', { name: 'Create delivery stream' }).click();
    const form = page.getByRole('form', { name: 'Create delivery stream' });
    await form.getByLabel('Name').fill(name);
    await fill(form);
    await form.getByLabel('Buffer size (MiB)').fill('1');
    await form.getByLabel('Buffer interval (seconds)').fill('1');
    if (shoot) {
      await a11y('the create form');
      await shot('firehose-create');
    }
    await form.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
  };
  const s3 = (bucket, prefix, compression) => async (form) => {
    await form.getByLabel('Records come from').selectOption('direct');
    await form.getByLabel('Deliver to').selectOption('s3');
    await form.getByLabel('Bucket').fill(bucket);
    if (prefix) await form.getByLabel('Prefix', { exact: true }).fill(prefix);
    await form.getByLabel('Error prefix').fill('errors/');
    if (compression) await form.getByLabel('Compression').selectOption(compression);
  };
  const put = async (data) => {
    const form = page.getByRole('region', { name: 'Put a record' });
    await form.getByLabel('Record data').fill(data);
    await form.getByRole('button', { name: 'Put record' }).click();
    await form.getByRole('status').filter({ hasText: 'Stored as record' }).waitFor();
  };
  const config = page.getByRole('region', { name: 'Configuration' });

  // An S3 delivery stream, GZIP, created and fed in the page.
  await create('console-s3', s3(env.SPEC_BUCKET, 'console/', 'GZIP'), { shoot: true });
  assert.match(await config.textContent(), /GZIP/);
  assert.match(await config.textContent(), new RegExp(env.SPEC_BUCKET));
  for (const n of [1, 2, 3]) await put(`{"n":${n}}`);
  log({ put: 3 });
  await page.getByRole('region', { name: 'Last delivery errors' }).getByText('None').waitFor();

  // A delivery stream to a bucket that does not exist: its page says why
  // nothing arrives, though its status stays ACTIVE.
  await create('console-missing', s3(env.SPEC_MISSING));
  await put('{"lost":false}');
  const errors = page.getByRole('region', { name: 'Last delivery errors' });
  await errors.getByText('S3.NoSuchBucket').first().waitFor();
  assert.match(await errors.textContent(), new RegExp(env.SPEC_MISSING));
  assert.match(await config.textContent(), /ACTIVE/);
  // The charts draw once GET /v1/metrics has answered twice.
  await page.getByRole('img', { name: 'Records per second' }).waitFor();
  await a11y("a delivery stream's page with delivery errors");
  await shot('firehose-detail');

  // The list shows both, the failing one flagged.
  await page.getByRole('link', { name: 'All delivery streams' }).click();
  const table = page.getByRole('table', { name: 'Delivery streams' });
  await table.getByRole('link', { name: 'console-s3' }).waitFor();
  const failing = table.getByRole('row').filter({ hasText: 'console-missing' });
  await failing.getByText('failing: S3.NoSuchBucket').waitFor();
  assert.match(await failing.textContent(), /Direct PUT/);
  await a11y('the delivery streams list');
  await shot('firehose-list');

  // Delete, confirmed in a dialog: a double click deletes once (the
  // button is disabled while the call runs).
  await table.getByRole('link', { name: 'console-missing' }).click();
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  const deletes = [];
  const onRequest = (r) => {
    if (r.headers()['x-amz-target'] === 'Firehose_20150804.DeleteDeliveryStream') deletes.push(r.url());
  };
  page.on('request', onRequest);
  await page.getByRole('dialog').getByRole('button', { name: 'Delete delivery stream' }).dblclick();
  await page.getByRole('heading', { level: 1, name: 'Delivery streams' }).waitFor();
  page.off('request', onRequest);
  assert.equal(deletes.length, 1, 'DeleteDeliveryStream calls for one double click');
  await table.getByRole('link', { name: 'console-s3' }).waitFor();
  assert.equal(await table.getByRole('link', { name: 'console-missing' }).count(), 0);
  log({ deleted: 'console-missing' });

  // Elasticsearch, with the S3 backup in the bucket.
  await create('console-es', async (form) => {
    await form.getByLabel('Deliver to').selectOption('es');
    await form.getByLabel('Cluster endpoint').fill(env.SPEC_ES_URL);
    await form.getByLabel('Index', { exact: true }).fill('console');
    await form.getByLabel('Index rotation').selectOption('NoRotation');
    await form.getByLabel('Backup bucket').fill(env.SPEC_BUCKET);
  });
  assert.match(await config.textContent(), /Elasticsearch/);
  await put('{"es":1}');

  // A Kinesis stream source: the page sends producers to the stream.
  await create('console-kinesis', async (form) => {
    await form.getByLabel('Records come from').selectOption('kinesis');
    await form.getByLabel(/^Kinesis stream/).selectOption(env.SPEC_STREAM);
    await form.getByLabel('Bucket').fill(env.SPEC_BUCKET);
    await form.getByLabel('Prefix', { exact: true }).fill('kinesis/');
  });
  assert.match(await config.textContent(), new RegExp('Kinesis stream ' + env.SPEC_STREAM));
  await page.getByRole('region', { name: 'Put a record' }).getByText('put records there').waitFor();
  log({ created: ['console-es', 'console-kinesis'] });
};
