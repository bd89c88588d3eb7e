// ConfirmDelete asks before a deletion: remove() runs on "Delete", then
// onDone(); a failure stays in the dialog.
import { useState } from 'preact/hooks';
import { Dialog, ErrorBanner } from '../../ui.jsx';

export function ConfirmDelete({ title, remove, onDone, onClose, children }) {
  const [error, setError] = useState(null);
  async function confirm() {
    try {
      await remove();
      onDone();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <Dialog title={title} onClose={onClose}>
      {children}
      <ErrorBanner error={error} />
      <div class="buttons">
        <button type="button" class="secondary" onClick={onClose}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={confirm}>
          Delete
        </button>
      </div>
    </Dialog>
  );
}
