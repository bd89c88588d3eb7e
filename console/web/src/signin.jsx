// SignIn asks for an access key and secret from the server's --credentials
// file, checks them with one signed call, and keeps them in sessionStorage
// (this tab only; never in a URL or a cookie).
import { useState } from 'preact/hooks';
import { kinesis, setCredentials } from './api.js';
import { ErrorBanner, Field } from './ui.jsx';

export function SignIn({ onSignedIn }) {
  const [accessKeyId, setKey] = useState('');
  const [secretAccessKey, setSecret] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setCredentials({ accessKeyId: accessKeyId.trim(), secretAccessKey: secretAccessKey.trim() });
    try {
      await kinesis('ListStreams', { Limit: 1 });
      onSignedIn();
    } catch (err) {
      // AccessDenied on ListStreams still proves the keys: the signature
      // was good, the policy says no to this one action.
      if (err.type === 'AccessDeniedException') {
        onSignedIn();
        return;
      }
      setCredentials(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="signin">
      <form onSubmit={submit} aria-label="Sign in">
        <h1>Sign in to Spate</h1>
        <p>This server requires signed requests. Use an access key from its credentials file.</p>
        <Field label="Access key ID" value={accessKeyId} onInput={(e) => setKey(e.target.value)} autocomplete="username" required />
        <Field
          label="Secret access key"
          type="password"
          value={secretAccessKey}
          onInput={(e) => setSecret(e.target.value)}
          autocomplete="current-password"
          required
        />
        <ErrorBanner error={error} />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
