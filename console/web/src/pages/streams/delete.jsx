// DeleteStream asks before DeleteStream: a stream's records go with it.
import { kinesis } from '../../api.js';
import { ConfirmDelete } from '../../ui.jsx';

export function DeleteStream({ name, onClose, onDeleted }) {
  return (
    <ConfirmDelete
      title={`Delete stream ${name}?`}
      remove={() => kinesis('DeleteStream', { StreamName: name })}
      onDone={onDeleted}
      onClose={onClose}
    >
      <p>
        Delete <strong>{name}</strong> and every record in it? This cannot be undone.
      </p>
    </ConfirmDelete>
  );
}
