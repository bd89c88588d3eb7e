// A function's event source mappings: their state and settings, enable,
// disable and delete, an iterator age chart per mapping (per shard), and
// the form that maps a stream to the function.
import { useState } from 'preact/hooks';
import { listAllStreams } from '../../api.js';
import { LineChart } from '../../chart.jsx';
import { useMetricSeries } from '../../metrics.js';
import { href } from '../../router.js';
import { ConfirmDelete, Dialog, ErrorBanner, Field, Select, Table, fmtTime, useAsync } from '../../ui.jsx';
import { createMapping, deleteMapping, listMappings, setMappingEnabled, streamName } from './lambda.js';

// Lambda's settled states; the others (Creating, Enabling, ...) pass.
const settled = new Set(['Enabled', 'Disabled']);

export function Mappings({ functionName }) {
  const list = useAsync((signal) => listMappings(functionName, signal), [functionName], 2000);
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState(null);
  const [error, setError] = useState(null);
  async function toggle(m) {
    setError(null);
    try {
      await setMappingEnabled(m.UUID, m.State !== 'Enabled');
      list.reload();
    } catch (err) {
      setError(err);
    }
  }
  const columns = [
    {
      key: 'EventSourceArn',
      label: 'Source stream',
      render: (m) => <a href={href('/streams/' + encodeURIComponent(streamName(m.EventSourceArn)))}>{streamName(m.EventSourceArn)}</a>,
    },
    { key: 'State', label: 'State', render: (m) => <span class={'status-' + (m.State || '').toUpperCase()}>{m.State}</span> },
    { key: 'BatchSize', label: 'Batch size', numeric: true },
    { key: 'StartingPosition', label: 'Starting position' },
    { key: 'LastProcessingResult', label: 'Last processing result' },
    { key: 'LastModified', label: 'Last modified', render: (m) => fmtTime(m.LastModified) },
    { key: 'UUID', label: 'UUID', render: (m) => <code>{m.UUID}</code> },
    {
      key: 'actions',
      label: 'Actions',
      render: (m) => (
        <span class="fn-actions">
          <button type="button" class="secondary" disabled={!settled.has(m.State)} onClick={() => toggle(m)}>
            {m.State === 'Enabled' ? 'Disable' : 'Enable'}
          </button>
          <button type="button" class="danger" onClick={() => setDeleting(m)}>
            Delete
          </button>
        </span>
      ),
    },
  ];
  return (
    <section aria-label="Event source mappings">
      <div class="page-head">
        <h2>Event source mappings</h2>
        <div class="actions">
          <button type="button" onClick={() => setAdding(true)}>
            Add mapping
          </button>
        </div>
      </div>
      <ErrorBanner error={list.error || error} />
      <Table
        label="Event source mappings"
        columns={columns}
        rows={list.data}
        empty="No mappings: add one to run the function on a stream's records."
      />
      {(list.data || []).map((m) => (
        <IteratorAge mapping={m} />
      ))}
      {adding && (
        <AddMapping
          functionName={functionName}
          onClose={() => setAdding(false)}
          onAdded={() => {
            setAdding(false);
            list.reload();
          }}
        />
      )}
      {deleting && (
        <DeleteMapping
          mapping={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            setDeleting(null);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

const pickAge = (m) => (m.name === 'spate_esm_iterator_age_milliseconds' ? m.labels.shard : null);

// IteratorAge charts a mapping's IteratorAge per shard: the age of the last
// record of the last batch it read, when it read it.
function IteratorAge({ mapping }) {
  const s = useMetricSeries({ mapping: mapping.UUID, name_prefix: 'spate_esm_iterator_age_' }, pickAge);
  return (
    <div class="fn-age">
      <ErrorBanner error={s.error} />
      <LineChart
        title={`Iterator age of ${streamName(mapping.EventSourceArn)} → mapping ${mapping.UUID.slice(0, 8)} (ms, per shard)`}
        series={s.keys.map((label) => ({ label }))}
        data={s.data}
        yLabel="ms"
      />
    </div>
  );
}

async function streamARNs(signal) {
  const out = (await listAllStreams(signal)).map((s) => ({ value: s.StreamARN, label: s.StreamName }));
  return out.sort((a, b) => a.label.localeCompare(b.label));
}

function AddMapping({ functionName, onClose, onAdded }) {
  const streams = useAsync((signal) => streamARNs(signal), []);
  const [stream, setStream] = useState('');
  const [batchSize, setBatchSize] = useState(100);
  const [position, setPosition] = useState('LATEST');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const options = streams.data || [];
  const chosen = stream || options[0]?.value || '';
  async function submit(e) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await createMapping({ functionName, streamArn: chosen, batchSize: Number(batchSize), startingPosition: position });
      onAdded();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Dialog title="Add event source mapping" onClose={onClose}>
      <form onSubmit={submit}>
        <ErrorBanner error={streams.error} />
        {streams.data && options.length === 0 ? (
          <p class="empty">
            No streams yet: <a href={href('/streams')}>create one</a> first.
          </p>
        ) : (
          <Select label="Stream" options={options} value={chosen} onChange={(e) => setStream(e.currentTarget.value)} />
        )}
        <Field
          label="Batch size"
          type="number"
          min="1"
          max="10000"
          value={batchSize}
          onInput={(e) => setBatchSize(e.currentTarget.value)}
          hint="Records per invocation, at most 10,000."
        />
        <Select
          label="Starting position"
          options={[
            { value: 'LATEST', label: 'LATEST (records written from now on)' },
            { value: 'TRIM_HORIZON', label: 'TRIM_HORIZON (the oldest record kept)' },
          ]}
          value={position}
          onChange={(e) => setPosition(e.currentTarget.value)}
        />
        <ErrorBanner error={error} />
        <div class="buttons">
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" disabled={busy || !chosen}>
            {busy ? 'Adding…' : 'Add mapping'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function DeleteMapping({ mapping, onClose, onDeleted }) {
  return (
    <ConfirmDelete title="Delete event source mapping?" remove={() => deleteMapping(mapping.UUID)} onDone={onDeleted} onClose={onClose}>
      <p>
        The function stops receiving records from <strong>{streamName(mapping.EventSourceArn)}</strong> (mapping{' '}
        <code>{mapping.UUID}</code>). Its checkpoints are deleted with it.
      </p>
    </ConfirmDelete>
  );
}
