// DeleteStream asks before DeleteStream: a stream's records go with it.
import { useState } from 'preact/hooks';
import { kinesis } from '../../api.js';
import { Dialog, ErrorBanner } from '../../ui.jsx';

export function DeleteStream({ name, onClose, onDeleted }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function confirm(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await kinesis('DeleteStream', { StreamName: name });
      onDeleted();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  return (
    <Dialog title={`Delete stream ${name}?`} onClose={onClose}>
      <form method="dialog" onSubmit={confirm}>
        <p>
          Delete <strong>{name}</strong> and every record in it? This cannot be undone.
        </p>
        <ErrorBanner error={error} />
        <div class="buttons">
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="danger" disabled={busy}>
            Delete
          </button>
        </div>
      </form>
    </Dialog>
  );
}
