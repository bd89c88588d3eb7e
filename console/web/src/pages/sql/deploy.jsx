// Deploy: the editor's SELECT as a lasting application that writes its
// rows with INSERT INTO to a Kinesis stream (an existing one, or a new
// one-shard stream created here) or to a DirectPut delivery stream
// (docs/analytics.md: INSERT INTO names a stream or, when there is none,
// a delivery stream; it must exist when the application is created).
import { useState } from 'preact/hooks';
import { analytics, kinesis, listAllDeliveryStreams, listAllStreams, waitStreamActive } from '../../api.js';
import { Dialog, ErrorBanner, Field, Select, useAsync } from '../../ui.jsx';
import { insertInto } from './templates.js';

const newStream = '\u0000new';

export function DeployDialog({ sql, source, onClose, onDeployed }) {
  const base = (source || 'query').replace(/[^A-Za-z0-9_.-]/g, '_');
  const [name, setName] = useState(`${base}_app`);
  const [kind, setKind] = useState('stream');
  const [dest, setDest] = useState(newStream);
  const [newName, setNewName] = useState(`${base}_results`);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const streams = useAsync(listAllStreams, []);
  const deliveries = useAsync((signal) => listAllDeliveryStreams('DirectPut', signal), []);
  const streamNames = (streams.data || []).map((s) => s.StreamName).filter((s) => s !== source);
  const deliveryNames = deliveries.data || [];
  const target = kind === 'stream' && dest === newStream ? newName : dest;

  async function deploy(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (kind === 'stream' && dest === newStream) {
        await kinesis('CreateStream', { StreamName: newName, ShardCount: 1 });
        await waitStreamActive(newName);
      }
      await analytics('POST', '/v1/applications', { name, sql: insertInto(sql, target) });
      onDeployed(name);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  const destOptions =
    kind === 'stream'
      ? [{ value: newStream, label: 'New stream…' }, ...streamNames.map((s) => ({ value: s, label: s }))]
      : deliveryNames.map((s) => ({ value: s, label: s }));
  return (
    <Dialog title="Deploy as an application" onClose={onClose}>
      <form onSubmit={deploy}>
        <Field label="Application name" value={name} required pattern="[A-Za-z0-9_.\-]{1,128}" onInput={(e) => setName(e.currentTarget.value)} />
        <Select
          label="Destination type"
          value={kind}
          options={[
            { value: 'stream', label: 'Kinesis data stream' },
            { value: 'delivery', label: 'Firehose delivery stream' },
          ]}
          onChange={(e) => {
            const k = e.currentTarget.value;
            setKind(k);
            setDest(k === 'stream' ? newStream : deliveryNames[0] || '');
          }}
        />
        {destOptions.length ? (
          <Select label="Destination" value={dest} options={destOptions} onChange={(e) => setDest(e.currentTarget.value)} />
        ) : (
          <p class="empty">No DirectPut delivery stream yet: create one under Delivery streams.</p>
        )}
        {kind === 'stream' && dest === newStream && (
          <Field
            label="New stream name"
            value={newName}
            required
            pattern="[A-Za-z0-9_.\-]{1,128}"
            hint="Created with one shard."
            onInput={(e) => setNewName(e.currentTarget.value)}
          />
        )}
        <p>
          Runs <code>INSERT INTO {target || '…'}</code> with your query, from the source's oldest record, until you stop it.
        </p>
        <ErrorBanner error={error || streams.error || deliveries.error} />
        <div class="buttons">
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" disabled={busy || !target}>
            {busy ? 'Deploying…' : 'Deploy'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
