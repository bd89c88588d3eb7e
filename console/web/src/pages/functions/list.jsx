// The functions list and the "Create function" dialog, which uploads a
// zip from the browser as CreateFunction's ZipFile.
import { useState } from 'preact/hooks';
import { getConfig } from '../../api.js';
import { Dialog, ErrorBanner, Field, Page, Select, Table, fmtBytes, fmtTime, useAsync } from '../../ui.jsx';
import { go, href } from '../../router.js';
import { createFunction, lastModified, listFunctions, maxZipBytes, runtimes } from './lambda.js';

const columns = [
  {
    key: 'FunctionName',
    label: 'Name',
    render: (f) => <a href={href('/functions/' + encodeURIComponent(f.FunctionName))}>{f.FunctionName}</a>,
  },
  { key: 'Runtime', label: 'Runtime' },
  { key: 'Handler', label: 'Handler' },
  { key: 'MemorySize', label: 'Memory (MB)', numeric: true },
  { key: 'Timeout', label: 'Timeout (s)', numeric: true },
  { key: 'LastModified', label: 'Last modified', render: (f) => fmtTime(lastModified(f.LastModified)) },
  { key: 'State', label: 'State', render: (f) => <span class={'status-' + (f.State || '').toUpperCase()}>{f.State}</span> },
];

export function FunctionsList() {
  const fns = useAsync((signal) => listFunctions(signal), [], 5000);
  const [creating, setCreating] = useState(false);
  return (
    <Page
      title="Functions"
      actions={
        <button type="button" onClick={() => setCreating(true)}>
          Create function
        </button>
      }
    >
      <ErrorBanner error={fns.error} />
      {fns.data === undefined && !fns.error ? (
        <p>Loading…</p>
      ) : (
        <Table
          label="Functions"
          columns={columns}
          rows={fns.data}
          empty="No functions yet. Create one from a zip holding a bootstrap executable (docs/functions.md)."
        />
      )}
      {creating && (
        <CreateFunction
          onClose={() => setCreating(false)}
          onCreated={(name) => {
            setCreating(false);
            go('/functions/' + encodeURIComponent(name));
          }}
        />
      )}
    </Page>
  );
}

function CreateFunction({ onClose, onCreated }) {
  const cfg = getConfig() || {};
  const [form, setForm] = useState({
    name: '',
    runtime: runtimes[0],
    handler: 'bootstrap',
    role: `arn:aws:iam::${cfg.accountId || '000000000000'}:role/lambda`,
    memory: 128,
    timeout: 3,
  });
  const [file, setFile] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  async function submit(e) {
    e.preventDefault();
    setError(null);
    if (!file) {
      setError({ type: 'ValidationException', message: 'Choose a .zip file holding the function code.' });
      return;
    }
    if (file.size > maxZipBytes) {
      setError({
        type: 'RequestEntityTooLargeException',
        message: `The zip is ${fmtBytes(file.size)}; a zip uploaded directly may be at most ${fmtBytes(maxZipBytes)}.`,
      });
      return;
    }
    setBusy(true);
    try {
      const zip = await file.arrayBuffer();
      const out = await createFunction({
        ...form,
        memory: Number(form.memory),
        timeout: Number(form.timeout),
        zip,
      });
      onCreated(out.FunctionName);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Dialog title="Create function" onClose={onClose}>
      <form onSubmit={submit}>
        <Field label="Function name" value={form.name} onInput={set('name')} required pattern="[a-zA-Z0-9_-]{1,64}" />
        <label class="field">
          <span>Code (.zip)</span>
          <input type="file" accept=".zip,application/zip" onChange={(e) => setFile(e.currentTarget.files[0] || null)} />
          <small>A zip with an executable bootstrap at its root, at most {fmtBytes(maxZipBytes)}.</small>
        </label>
        <div class="row">
          <Select label="Runtime" options={runtimes} value={form.runtime} onChange={set('runtime')} />
          <Field label="Handler" value={form.handler} onInput={set('handler')} />
        </div>
        <div class="row">
          <Field label="Memory (MB)" type="number" min="128" max="10240" value={form.memory} onInput={set('memory')} />
          <Field label="Timeout (seconds)" type="number" min="1" max="900" value={form.timeout} onInput={set('timeout')} />
        </div>
        <Field label="Role" value={form.role} onInput={set('role')} hint="Lambda requires a role ARN; Spate keeps it but grants nothing with it." />
        <ErrorBanner error={error} />
        <div class="buttons">
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
