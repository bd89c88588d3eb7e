// The Streams area: the list of Kinesis data streams with create and
// delete, and a stream's page (pages/streams/detail.jsx). It talks only to
// the Kinesis API and GET /v1/metrics, as the CLI and the SDKs would.
import { useState } from 'preact/hooks';
import { kinesis, listAllStreams, waitStreamActive } from '../api.js';
import { href } from '../router.js';
import { Dialog, ErrorBanner, Field, Page, Select, Table, useAsync } from '../ui.jsx';
import { DeleteStream } from './streams/delete.jsx';
import { StreamDetail } from './streams/detail.jsx';
import './streams.css';

// listStreams lists every stream with its summary (shards, retention): a
// DescribeStreamSummary per stream, as ListStreams gives neither.
async function listStreams(signal) {
  const summaries = await listAllStreams(signal);
  return Promise.all(
    summaries.map(async (s) => {
      try {
        const d = await kinesis('DescribeStreamSummary', { StreamName: s.StreamName }, signal);
        return { ...s, ...d.StreamDescriptionSummary };
      } catch (error) {
        if (error.type === 'ResourceNotFoundException') return { ...s, StreamStatus: 'DELETING' }; // gone meanwhile
        throw error;
      }
    }),
  );
}

function StreamsList() {
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState(null);
  const list = useAsync(listStreams, [], 5000); // a DescribeStreamSummary per stream each time: not too often
  const columns = [
    { label: 'Name', render: (r) => <a href={href('/streams/' + encodeURIComponent(r.StreamName))}>{r.StreamName}</a> },
    { label: 'Status', render: (r) => <span class={`status-${r.StreamStatus}`}>{r.StreamStatus}</span> },
    { label: 'Capacity mode', render: (r) => r.StreamModeDetails?.StreamMode || 'PROVISIONED' },
    { label: 'Open shards', numeric: true, render: (r) => String(r.OpenShardCount ?? '') },
    { label: 'Retention (hours)', numeric: true, render: (r) => String(r.RetentionPeriodHours ?? '') },
    {
      label: 'Actions',
      render: (r) => (
        <button type="button" class="secondary" aria-label={`Delete stream ${r.StreamName}`} onClick={() => setDeleting(r.StreamName)}>
          Delete
        </button>
      ),
    },
  ];
  return (
    <Page
      title="Streams"
      actions={
        <button type="button" onClick={() => setCreating(true)}>
          Create stream
        </button>
      }
    >
      <ErrorBanner error={list.error} />
      {list.data && (
        <Table label="Streams" columns={columns} rows={list.data} empty="No streams yet: create one to start." />
      )}
      {creating && (
        <CreateStream
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            list.reload();
          }}
        />
      )}
      {deleting && (
        <DeleteStream
          name={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            setDeleting(null);
            list.reload();
          }}
        />
      )}
    </Page>
  );
}

// CreateStream creates a stream; a retention above Kinesis's default of 24
// hours is set once the stream is ACTIVE (CreateStream has no retention).
function CreateStream({ onClose, onCreated }) {
  const [name, setName] = useState('');
  const [mode, setMode] = useState('PROVISIONED');
  const [shards, setShards] = useState('1');
  const [retention, setRetention] = useState('24');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState('');
  async function create(e) {
    e.preventDefault();
    setError(null);
    const hours = Number(retention);
    try {
      setBusy('Creating…');
      const input = { StreamName: name, StreamModeDetails: { StreamMode: mode } };
      if (mode === 'PROVISIONED') input.ShardCount = Number(shards);
      await kinesis('CreateStream', input);
      if (hours !== 24) {
        setBusy('Waiting for ACTIVE to set the retention…');
        await waitStreamActive(name);
        await kinesis('IncreaseStreamRetentionPeriod', { StreamName: name, RetentionPeriodHours: hours });
      }
      onCreated();
    } catch (err) {
      setError(err);
      setBusy('');
    }
  }
  return (
    <Dialog title="Create stream" onClose={onClose}>
      <form onSubmit={create}>
        <Field label="Name" value={name} required maxLength={128} pattern="[a-zA-Z0-9_.\-]+" onInput={(e) => setName(e.currentTarget.value)} />
        <Select
          label="Capacity mode"
          value={mode}
          onChange={(e) => setMode(e.currentTarget.value)}
          options={[
            { value: 'PROVISIONED', label: 'Provisioned: you choose the shards' },
            { value: 'ON_DEMAND', label: 'On-demand (Spate splits and merges shards)' },
          ]}
        />
        {mode === 'PROVISIONED' && (
          <Field label="Shard count" type="number" min="1" max="500" required value={shards} onInput={(e) => setShards(e.currentTarget.value)} />
        )}
        <Field
          label="Retention (hours)"
          type="number"
          min="24"
          max="8760"
          required
          value={retention}
          hint="24 to 8760 hours (365 days)."
          onInput={(e) => setRetention(e.currentTarget.value)}
        />
        <ErrorBanner error={error} />
        {busy && <p aria-live="polite">{busy}</p>}
        <div class="buttons">
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" disabled={!!busy}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export const routes = [
  { path: '/streams', view: StreamsList, nav: 'Streams' },
  { path: '/streams/:name', view: StreamDetail },
];
