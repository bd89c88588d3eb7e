// The applications: what GET /v1/applications describes (status, streams,
// counts, per-shard positions and lag, late rows, watermark), refreshed
// every two seconds, with start, stop and delete.
import { useState } from 'preact/hooks';
import { analytics } from '../../api.js';
import { ConfirmDelete, ErrorBanner, Page, fmtNumber, fmtTime, useAsync } from '../../ui.jsx';
import { SqlTabs } from './tabs.jsx';

// fmtLag formats milliseconds behind the tip of a shard.
export function fmtLag(ms) {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120000) return `${fmtNumber(ms / 1000)} s`;
  return `${fmtNumber(ms / 60000)} min`;
}

// shardLabel shortens shardId-000000000003 to "shard 3".
const shardLabel = (id) => (/^shardId-\d+$/.test(id) ? `shard ${Number(id.slice(8))}` : id);

// shortSeq keeps the end of a sequence number, which is what changes.
const shortSeq = (s) => (s && s.length > 12 ? '…' + s.slice(-12) : s || '—');

function Positions({ inputs }) {
  if (!inputs?.length) return <span class="empty">none yet</span>;
  return (
    <ul class="positions">
      {inputs.map((p) => (
        <li>
          <span class="mono">{shardLabel(p.shard_id)}</span>{' '}
          <span class="mono" title={p.sequence_number}>
            {shortSeq(p.sequence_number)}
          </span>{' '}
          <span class="lag">lag {fmtLag(p.lag_ms)}</span>
        </li>
      ))}
    </ul>
  );
}

function Actions({ app, act, busy }) {
  const running = app.status === 'RUNNING' || app.status === 'STARTING';
  return (
    <div class="buttons-inline">
      {running ? (
        <button type="button" class="secondary" disabled={busy} aria-label={`Stop ${app.name}`} onClick={() => act(app, 'stop')}>
          Stop
        </button>
      ) : (
        <button type="button" class="secondary" disabled={busy} aria-label={`Start ${app.name}`} onClick={() => act(app, 'start')}>
          Start
        </button>
      )}
      <button type="button" class="danger" disabled={busy} aria-label={`Delete ${app.name}`} onClick={() => act(app, 'delete')}>
        Delete
      </button>
    </div>
  );
}

export function Applications() {
  const list = useAsync((signal) => analytics('GET', '/v1/applications', undefined, signal), [], 2000);
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [deleting, setDeleting] = useState(null); // the app whose deletion awaits confirmation
  async function act(app, op) {
    if (op === 'delete') {
      setDeleting(app);
      return;
    }
    setBusy(app.name);
    setError(null);
    try {
      await analytics('POST', `/v1/applications/${encodeURIComponent(app.name)}/${op}`);
    } catch (e) {
      setError(e);
    }
    setBusy(null);
    list.reload();
  }
  const apps = list.data?.applications || [];
  return (
    <Page title="SQL applications" actions={<a href="#/sql">New query</a>}>
      <SqlTabs current="applications" />
      <ErrorBanner error={error || list.error} />
      {list.data && !apps.length && (
        <p class="empty">
          No applications yet. Write a query in the <a href="#/sql">SQL editor</a> and deploy it.
        </p>
      )}
      {apps.length > 0 && (
        <table aria-label="Applications" class="apps">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Source → target</th>
              <th scope="col" class="num">Rows in</th>
              <th scope="col" class="num">Rows out</th>
              <th scope="col" class="num">Late rows</th>
              <th scope="col" class="num">Bad rows</th>
              <th scope="col" class="num">Lag</th>
              <th scope="col">Positions</th>
              <th scope="col">Watermark</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {apps.map((a) => (
              <tr>
                <th scope="row">
                  <details>
                    <summary>{a.name}</summary>
                    <pre class="sql-text">{a.sql}</pre>
                    <small>created {fmtTime(a.created_at)}</small>
                  </details>
                  {a.temporary && <small class="tag">temporary</small>}
                </th>
                <td>
                  <span class={`status-${a.status}`}>{a.status}</span>
                  {a.error && <div class="error-text">{a.error}</div>}
                </td>
                <td>
                  {a.source} → {a.target || <em>results stream</em>}
                </td>
                <td class="num">{fmtNumber(a.rows_in)}</td>
                <td class="num">{fmtNumber(a.rows_out)}</td>
                <td class="num">{fmtNumber(a.late_rows)}</td>
                <td class="num">{fmtNumber(a.bad_rows)}</td>
                <td class="num">{fmtLag(Math.max(0, ...(a.inputs || []).map((p) => p.lag_ms)))}</td>
                <td>
                  <Positions inputs={a.inputs} />
                </td>
                <td>{a.watermark ? fmtTime(a.watermark) : '—'}</td>
                <td>
                  <Actions app={a} act={act} busy={busy === a.name} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {deleting && (
        <ConfirmDelete
          title={`Delete ${deleting.name}?`}
          remove={() => analytics('DELETE', `/v1/applications/${encodeURIComponent(deleting.name)}`)}
          onDone={() => {
            setDeleting(null);
            list.reload();
          }}
          onClose={() => setDeleting(null)}
        >
          <p>
            The application stops and is gone with its checkpoint
            {deleting.target ? <>; its output {deleting.target} stays</> : ''}.
          </p>
        </ConfirmDelete>
      )}
    </Page>
  );
}
