// A delivery stream's page: its last delivery errors first (a delivery
// that fails leaves the status ACTIVE), its configuration, its delivery
// charts and DataFreshness from GET /v1/metrics, a form to put a record,
// and Delete.
import { useState } from 'preact/hooks';
import { encodeBase64, firehose } from '../../api.js';
import { LineChart } from '../../chart.jsx';
import { useMetricSeries } from '../../metrics.js';
import { go, href } from '../../router.js';
import { ConfigPanel, ConfirmDelete, ErrorBanner, Page, Table, fmtNumber, fmtTime, useAsync } from '../../ui.jsx';
import { bucketName, describeSource, hints, streamName } from './describe.js';

// The series of the charts, keyed "<chart>:<series>" (metricKey).
const chartSeries = {
  records: { title: 'Records per second', yLabel: 'records/s' },
  attempts: { title: 'Delivery attempts per second', yLabel: 'attempts/s' },
  freshness: { title: 'DataFreshness (age of the oldest undelivered record)', yLabel: 'seconds' },
};

function metricKey(m) {
  switch (m.name) {
    case 'spate_firehose_incoming_records_total':
      return 'records:incoming';
    case 'spate_firehose_delivery_records_total':
      return 'records:delivered';
    case 'spate_firehose_delivery_attempts_total':
      return 'attempts:' + (m.labels?.result || 'all');
    case 'spate_firehose_data_freshness_seconds':
      return 'freshness:DataFreshness';
  }
  return null;
}

// DeliveryErrors shows the last delivery errors, newest first.
function DeliveryErrors({ errors }) {
  if (!errors?.length) {
    return (
      <section class="panel fh-ok" aria-label="Last delivery errors">
        <h2>Last delivery errors</h2>
        <p class="ok">None: the last attempts succeeded.</p>
      </section>
    );
  }
  const columns = [
    { key: 'Timestamp', label: 'Last seen', render: (e) => fmtTime(e.Timestamp) },
    { key: 'Destination', label: 'Destination' },
    { key: 'ErrorCode', label: 'Error code', render: (e) => <code>{e.ErrorCode}</code> },
    { key: 'Count', label: 'Times', numeric: true, render: (e) => fmtNumber(e.Count) },
    { key: 'ErrorMessage', label: 'Message', render: (e) => <span class="fh-message">{e.ErrorMessage}</span> },
  ];
  return (
    <section class="panel fh-errors" aria-label="Last delivery errors">
      <h2>Last delivery errors</h2>
      <p role="alert">
        Delivery is failing and is being retried: <strong>{errors[0].ErrorCode}</strong>. The records wait in the
        delivery stream until the destination takes them.
      </p>
      <Table label="Delivery errors" columns={columns} rows={errors} />
    </section>
  );
}

function Configuration({ d }) {
  const dest = d.Destinations?.[0] || {};
  const s3 = dest.ExtendedS3DestinationDescription || dest.S3DestinationDescription;
  const es = dest.ElasticsearchDestinationDescription || dest.AmazonopensearchserviceDestinationDescription;
  const rows = [
    ['Status', <span class={'status-' + d.DeliveryStreamStatus}>{d.DeliveryStreamStatus}</span>],
    ['Source', describeSource(d)],
    ['ARN', <code>{d.DeliveryStreamARN}</code>],
    ['Created', fmtTime(d.CreateTimestamp)],
    ['Updated', fmtTime(d.LastUpdateTimestamp)],
    ['Version', d.VersionId],
  ];
  if (d.Source?.KinesisStreamSourceDescription) {
    const name = streamName(d.Source.KinesisStreamSourceDescription.KinesisStreamARN);
    rows[1] = ['Source', <a href={href('/streams/' + encodeURIComponent(name))}>Kinesis stream {name}</a>];
  }
  if (s3) {
    rows.push(
      ['Destination', 'Amazon S3'],
      ['Bucket', bucketName(s3.BucketARN)],
      ['Prefix', s3.Prefix || '—'],
      ['Error prefix', s3.ErrorOutputPrefix || '—'],
      ['Compression', s3.CompressionFormat || 'UNCOMPRESSED'],
      ['Buffering', hints(s3.BufferingHints)],
    );
  } else if (es) {
    rows.push(
      ['Destination', dest.ElasticsearchDestinationDescription ? 'Elasticsearch' : 'OpenSearch'],
      ['Cluster endpoint', es.ClusterEndpoint || "the server's --es-url"],
      ['Index', es.IndexName],
      ['Index rotation', es.IndexRotationPeriod || 'NoRotation'],
      ['Buffering', hints(es.BufferingHints)],
      ['S3 backup', `${es.S3BackupMode || 'FailedDocumentsOnly'} to ${bucketName(es.S3DestinationDescription?.BucketARN || es.S3Configuration?.BucketARN)}`],
    );
  }
  return <ConfigPanel rows={rows} cls="fh-config" panelCls="panel" />;
}

function Charts({ name }) {
  const m = useMetricSeries({ delivery_stream: name }, metricKey);
  const charts = Object.entries(chartSeries).map(([id, c]) => {
    const cols = m.keys.map((k, i) => [k, i + 1]).filter(([k]) => k.startsWith(id + ':'));
    return {
      id,
      ...c,
      series: cols.map(([k]) => ({ label: k.slice(id.length + 1) })),
      data: [m.data[0] || [], ...cols.map(([, i]) => m.data[i])],
    };
  });
  const freshness = charts.find((c) => c.id === 'freshness');
  const lastFreshness = freshness.data[1]?.length ? freshness.data[1][freshness.data[1].length - 1] : null;
  return (
    <section aria-label="Delivery metrics">
      <h2>Delivery</h2>
      <ErrorBanner error={m.error} />
      <p>
        DataFreshness: <strong>{lastFreshness === null ? '—' : fmtNumber(lastFreshness) + ' s'}</strong>
      </p>
      <div class="grid2">
        {charts.map((c) => (
          <div>
            {c.series.length ? (
              <LineChart title={c.title} series={c.series} data={c.data} yLabel={c.yLabel} />
            ) : (
              <p class="empty">
                {c.title}: {m.error ? 'unavailable' : 'waiting for data…'}
              </p>
            )}
          </div>
        ))}
      </div>
    </section>
  );
}

function PutRecord({ name }) {
  const [data, setData] = useState('');
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const r = await firehose('PutRecord', { DeliveryStreamName: name, Record: { Data: encodeBase64(data) } });
      setResult(r.RecordId);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="panel" aria-label="Put a record">
      <h2>Put a record</h2>
      <form onSubmit={submit} class="fh-put">
        <label class="field">
          <span>Record data</span>
          <textarea rows="3" value={data} onInput={(e) => setData(e.target.value)} placeholder='{"ticker":"AMZN","price":185.78}' required />
        </label>
        <button type="submit" disabled={busy}>
          Put record
        </button>
      </form>
      <ErrorBanner error={error} />
      {result && (
        <p class="ok" role="status">
          Stored as record <code>{result.slice(-12)}</code>.
        </p>
      )}
    </section>
  );
}

export function DeliveryStreamPage({ name }) {
  const { data, error } = useAsync(
    async (signal) => (await firehose('DescribeDeliveryStream', { DeliveryStreamName: name }, signal)).DeliveryStreamDescription,
    [name],
    3000,
  );
  const [confirm, setConfirm] = useState(false);
  return (
    <Page
      title={name}
      actions={
        <>
          <a href={href('/firehose')}>All delivery streams</a>
          <button type="button" class="danger" onClick={() => setConfirm(true)}>
            Delete
          </button>
        </>
      }
    >
      <ErrorBanner error={error} />
      {data && (
        <div class="fh-page">
          <DeliveryErrors errors={data.SpateDeliveryErrors} />
          <div class="grid2">
            <Configuration d={data} />
            {data.DeliveryStreamType === 'DirectPut' ? (
              <PutRecord name={name} />
            ) : (
              <section class="panel" aria-label="Put a record">
                <h2>Put a record</h2>
                <p>This delivery stream reads its Kinesis stream: put records there.</p>
              </section>
            )}
          </div>
          <Charts name={name} />
        </div>
      )}
      {confirm && (
        <ConfirmDelete
          title={`Delete ${name}?`}
          label="Delete delivery stream"
          remove={() => firehose('DeleteDeliveryStream', { DeliveryStreamName: name })}
          onDone={() => go('/firehose')}
          onClose={() => setConfirm(false)}
        >
          <p>Records it has not delivered yet will not be delivered; what is in the destination stays.</p>
        </ConfirmDelete>
      )}
    </Page>
  );
}
