// A stream's page (#/streams/NAME): its summary, its shards with their
// lineage after resharding, live per-shard charts from GET /v1/metrics, a
// form to put a record, and the record browser.
import { useState } from 'preact/hooks';
import { encodeBase64, kinesis } from '../../api.js';
import { LineChart } from '../../chart.jsx';
import { useMetricSeries } from '../../metrics.js';
import { href } from '../../router.js';
import { ErrorBanner, Field, Page, Table, fmtTime, useAsync } from '../../ui.jsx';
import { DeleteStream } from './delete.jsx';
import { RecordBrowser } from './records.jsx';
import { listShards } from './tail.js';

// The shard-level metrics the charts draw (EnableEnhancedMonitoring names).
const chartMetrics = ['IncomingRecords', 'OutgoingRecords', 'IteratorAgeMilliseconds'];

export function StreamDetail({ name }) {
  const [deleting, setDeleting] = useState(false);
  const info = useAsync(
    async (signal) => {
      const [summary, shards] = await Promise.all([
        kinesis('DescribeStreamSummary', { StreamName: name }, signal),
        listShards(name, signal),
      ]);
      return { summary: summary.StreamDescriptionSummary, shards };
    },
    [name],
    3000,
  );
  const s = info.data?.summary;
  const shards = info.data?.shards || [];
  return (
    <Page
      title={`Stream ${name}`}
      actions={
        <>
          <a href={href('/streams')}>All streams</a>
          <button type="button" class="danger" onClick={() => setDeleting(true)}>
            Delete stream
          </button>
        </>
      }
    >
      <ErrorBanner error={info.error} />
      {deleting && <DeleteStream name={name} onClose={() => setDeleting(false)} onDeleted={() => (location.hash = '#/streams')} />}
      {s && <Summary s={s} />}
      <h2>Shards</h2>
      <ShardTable shards={shards} />
      {s && <ShardCharts s={s} onChange={info.reload} />}
      <PutRecord stream={name} />
      {info.data && <RecordBrowser stream={name} shards={shards} />}
    </Page>
  );
}

function Summary({ s }) {
  return (
    <dl class="summary panel" aria-label="Summary">
      <div>
        <dt>Status</dt>
        <dd class={`status-${s.StreamStatus}`}>{s.StreamStatus}</dd>
      </div>
      <div>
        <dt>Capacity mode</dt>
        <dd>{s.StreamModeDetails?.StreamMode || 'PROVISIONED'}</dd>
      </div>
      <div>
        <dt>Open shards</dt>
        <dd>{s.OpenShardCount}</dd>
      </div>
      <div>
        <dt>Retention</dt>
        <dd>{s.RetentionPeriodHours} hours</dd>
      </div>
      <div>
        <dt>Consumers</dt>
        <dd>{s.ConsumerCount ?? 0}</dd>
      </div>
      <div>
        <dt>Encryption</dt>
        <dd>{s.EncryptionType || 'NONE'}</dd>
      </div>
      <div>
        <dt>Created</dt>
        <dd>{fmtTime(s.StreamCreationTimestamp)}</dd>
      </div>
      <div class="wide">
        <dt>ARN</dt>
        <dd class="mono">{s.StreamARN}</dd>
      </div>
    </dl>
  );
}

// ShardTable lists every shard, open and closed, with its parents and its
// children (the shards that name it as a parent).
function ShardTable({ shards }) {
  const children = new Map();
  for (const sh of shards) {
    for (const p of [sh.ParentShardId, sh.AdjacentParentShardId]) {
      if (p) children.set(p, [...(children.get(p) || []), sh.ShardId]);
    }
  }
  const columns = [
    { label: 'Shard', render: (r) => <span class="mono shard-id">{r.ShardId}</span> },
    {
      label: 'State',
      render: (r) => (r.SequenceNumberRange?.EndingSequenceNumber ? <span class="closed">closed</span> : <span class="ok">open</span>),
    },
    {
      label: 'Hash key range',
      render: (r) => (
        <span class="mono hash">
          {r.HashKeyRange.StartingHashKey} – {r.HashKeyRange.EndingHashKey}
        </span>
      ),
    },
    { label: 'Starting sequence number', render: (r) => <span class="mono seq">{r.SequenceNumberRange?.StartingSequenceNumber}</span> },
    { label: 'Ending sequence number', render: (r) => <span class="mono seq">{r.SequenceNumberRange?.EndingSequenceNumber || ''}</span> },
    { label: 'Parent', render: (r) => <span class="mono shard-id">{r.ParentShardId || ''}</span> },
    { label: 'Adjacent parent', render: (r) => <span class="mono shard-id">{r.AdjacentParentShardId || ''}</span> },
    { label: 'Children', render: (r) => <span class="mono">{(children.get(r.ShardId) || []).join(', ')}</span> },
  ];
  return <Table label="Shards" columns={columns} rows={shards} empty="No shards yet." />;
}

// ShardCharts draws records in and out per second and the iterator age,
// per shard, once the stream's shard-level metrics are on (as on Kinesis,
// they exist only after EnableEnhancedMonitoring).
function ShardCharts({ s, onChange }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const enabled = new Set(s.EnhancedMonitoring?.[0]?.ShardLevelMetrics || []);
  const on = chartMetrics.every((m) => enabled.has(m)) || enabled.has('ALL');
  async function enable() {
    setBusy(true);
    setError(null);
    try {
      await kinesis('EnableEnhancedMonitoring', { StreamName: s.StreamName, ShardLevelMetrics: chartMetrics });
      onChange();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section aria-label="Shard metrics">
      <h2>Shard metrics</h2>
      <ErrorBanner error={error} />
      {!on ? (
        <p class="panel">
          Shard-level metrics are off for this stream: as on Kinesis, they are kept only for the metrics enabled with
          EnableEnhancedMonitoring.{' '}
          <button type="button" onClick={enable} disabled={busy}>
            Enable shard metrics
          </button>
        </p>
      ) : (
        <div class="grid3">
          <ShardChart stream={s.StreamName} metric="spate_shard_incoming_records_total" title="Records in per second" />
          <ShardChart stream={s.StreamName} metric="spate_shard_outgoing_records_total" title="Records out per second" />
          <ShardChart stream={s.StreamName} metric="spate_shard_iterator_age_milliseconds" title="Iterator age (ms)" />
        </div>
      )}
    </section>
  );
}

// ShardChart is one metric, one line per shard (and per named consumer for
// the iterator age, which Spate keeps per consumer).
function ShardChart({ stream, metric, title }) {
  const { keys, data, error } = useMetricSeries({ stream, name_prefix: metric }, (m) =>
    m.name === metric ? m.labels.shard + (m.labels.consumer ? ` ${m.labels.consumer}` : '') : null,
  );
  // data-* say what is drawn, for the end-to-end test (a canvas is opaque).
  const max = Math.max(0, ...data.slice(1).flat().filter((v) => v !== null));
  return (
    <div class="chart-box" data-metric={metric} data-series={keys.length} data-points={data[0].length} data-max={max}>
      <ErrorBanner error={error} />
      <LineChart title={title} series={keys.map((k) => ({ label: k }))} data={data} height={200} />
    </div>
  );
}

// PutRecord puts one record, so that a new user can try the stream.
function PutRecord({ stream }) {
  const [key, setKey] = useState('');
  const [data, setData] = useState('{"hello": "spate"}');
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function put(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await kinesis('PutRecord', { StreamName: stream, PartitionKey: key, Data: encodeBase64(data) }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="panel" aria-label="Put a record" onSubmit={put}>
      <h2>Put a record</h2>
      <div class="row">
        <Field label="Partition key" value={key} required maxLength={256} onInput={(e) => setKey(e.currentTarget.value)} />
        <label class="field grow">
          <span>Data</span>
          <textarea rows={2} value={data} onInput={(e) => setData(e.currentTarget.value)} />
        </label>
        <div class="field">
          <span>&nbsp;</span>
          <button type="submit" disabled={busy}>
            Put record
          </button>
        </div>
      </div>
      <ErrorBanner error={error} />
      {result && (
        <p role="status" class="ok">
          Put in {result.ShardId} at sequence number <span class="mono">{result.SequenceNumber}</span>.
        </p>
      )}
    </form>
  );
}
