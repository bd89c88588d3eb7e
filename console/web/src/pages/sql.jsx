// The SQL area, as the Kinesis Analytics console had it: choose a source
// stream (or create the demo stream, fed by the server: POST /v1/demo),
// read its proposed schema, start from a template, edit with validation as
// you type, Run to see rows live, Deploy as a lasting application; and the
// applications with their status, positions, lag and late rows.
import { useEffect, useState } from 'preact/hooks';
import { analytics, listAllStreams } from '../api.js';
import { go } from '../router.js';
import { ErrorBanner, Field, Page, Select, fmtNumber, fmtTime, useAsync } from '../ui.jsx';
import { Applications } from './sql/applications.jsx';
import { DeployDialog } from './sql/deploy.jsx';
import { SqlEditor } from './sql/editor.jsx';
import { ResultsChart, ResultsTable, useRun } from './sql/results.jsx';
import { SqlTabs } from './sql/tabs.jsx';
import { fill, templates } from './sql/templates.js';
import './sql.css';

// The editor's stream and text survive a visit to the applications page.
const remembered = (key, def) => sessionStorage.getItem('spate.sql.' + key) ?? def;
const remember = (key, v) => sessionStorage.setItem('spate.sql.' + key, v);

async function listStreams(signal) {
  return (await listAllStreams(signal)).map((s) => s.StreamName);
}

function Source({ stream, setStream }) {
  const streams = useAsync(listStreams, []);
  const producers = useAsync((signal) => analytics('GET', '/v1/demo', undefined, signal), [], 5000);
  const [demoName, setDemoName] = useState('stock_ticker');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const producer = producers.data?.producers?.find((p) => p.stream === stream);

  async function createDemo(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const p = await analytics('POST', '/v1/demo', { stream: demoName });
      await streams.reload();
      producers.reload();
      setStream(p.stream);
    } catch (err) {
      setError(err);
    }
    setBusy(false);
  }
  async function stopDemo() {
    setError(null);
    try {
      await analytics('DELETE', `/v1/demo/${encodeURIComponent(stream)}`);
    } catch (err) {
      setError(err);
    }
    producers.reload();
  }

  const names = streams.data || [];
  const options = [{ value: '', label: 'Choose a stream…' }, ...names.map((s) => ({ value: s, label: s }))];
  if (stream && !names.includes(stream)) options.push({ value: stream, label: stream });
  return (
    <section class="panel" aria-labelledby="sql-source">
      <h2 id="sql-source">Source</h2>
      <div class="row">
        <Select label="Source stream" value={stream} options={options} onChange={(e) => setStream(e.currentTarget.value)} />
        <form class="row" onSubmit={createDemo}>
          <Field
            label="Demo stream name"
            value={demoName}
            required
            pattern="[A-Za-z0-9_.\-]{1,128}"
            onInput={(e) => setDemoName(e.currentTarget.value)}
          />
          <div class="field">
            <button type="submit" disabled={busy}>
              {busy ? 'Creating…' : 'Create demo stream'}
            </button>
          </div>
        </form>
      </div>
      {producer && (
        <p role="status">
          The server feeds <strong>{producer.stream}</strong> with {producer.rate} stock trades a second (since{' '}
          {fmtTime(producer.started_at)}).{' '}
          <button type="button" class="secondary" onClick={stopDemo}>
            Stop demo producer
          </button>
        </p>
      )}
      <ErrorBanner error={error || streams.error} />
    </section>
  );
}

function Schema({ stream, schema }) {
  if (!stream) return null;
  const sc = schema.data;
  return (
    <section class="panel" aria-labelledby="sql-schema">
      <h2 id="sql-schema">Proposed schema</h2>
      <ErrorBanner error={schema.error} />
      {sc && !sc.columns?.length && (
        <p class="empty" role="status">
          {sc.sampled ? `No JSON object among the ${sc.sampled} latest records.` : 'No records yet: waiting for the first ones…'}
        </p>
      )}
      {sc?.columns?.length > 0 && (
        <>
          <table aria-label="Proposed schema">
            <thead>
              <tr>
                <th scope="col">Column</th>
                <th scope="col">SQL type</th>
                <th scope="col">JSON path</th>
                <th scope="col">In records</th>
                <th scope="col">Example</th>
              </tr>
            </thead>
            <tbody>
              {sc.columns.map((c) => (
                <tr>
                  <td>{c.name}</td>
                  <td>
                    {c.type}
                    {c.nullable ? '' : ' NOT NULL'}
                  </td>
                  <td class="mono">{jsonPath(c)}</td>
                  <td class="num">{fmtNumber(c.presence * 100)} %</td>
                  <td class="mono">
                    {c.example}
                    {c.note && <small> ({c.note})</small>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <small>
            <button type="button" class="link" onClick={schema.reload}>
              Sample again
            </button>{' '}
            From the {fmtNumber(sc.sampled)} latest records{sc.not_objects ? `, ${sc.not_objects} of them not JSON objects` : ''}. In SQL, write
            the column as in <code>expr</code>: {sc.columns.map((c) => c.expr).join(', ')}.
          </small>
        </>
      )}
    </section>
  );
}

// jsonPath is where a column is in the record: $.a.b.
function jsonPath(c) {
  const m = /->>?\s*'(\$[^']*)'/.exec(c.expr);
  return m ? m[1] : '$.' + c.name;
}

function Validation({ v }) {
  if (!v) return <p class="validation" role="status" aria-live="polite" />;
  if (v.checking) return <p class="validation" role="status" aria-live="polite">Checking…</p>;
  if (v.empty) return <p class="validation" role="status" aria-live="polite">Write a query or pick a template.</p>;
  if (v.error) {
    return (
      <p class="validation bad" role="status" aria-live="polite">
        <strong>{v.error.line ? `Line ${v.error.line}, column ${v.error.column}` : v.error.type}</strong>:{' '}
        {v.error.message.replace(/^line \d+, column \d+: /, '')}
      </p>
    );
  }
  const d = v.description;
  return (
    <p class="validation ok" role="status" aria-live="polite">
      Valid: reads <strong>{d.source}</strong>
      {d.target && (
        <>
          , writes <strong>{d.target}</strong>
        </>
      )}
      , columns {d.columns.join(', ')}.
    </p>
  );
}

function SqlConsole() {
  const [stream, setStreamState] = useState(remembered('stream', ''));
  const [text, setTextState] = useState(remembered('text', ''));
  const [template, setTemplate] = useState('');
  const [validation, setValidation] = useState(null);
  const [deploying, setDeploying] = useState(false);
  const { state: run, run: start, stop } = useRun();
  const setStream = (s) => {
    setStreamState(s);
    remember('stream', s);
  };
  const setText = (t) => {
    setTextState(t);
    remember('text', t);
  };
  const [ready, setReady] = useState(false);
  const schema = useAsync(
    async (signal) => {
      if (!stream) return null;
      const sc = await analytics('GET', `/v1/streams/${encodeURIComponent(stream)}/schema`, undefined, signal);
      setReady(sc.columns?.length > 0);
      return sc;
    },
    [stream],
    ready ? 0 : 2000,
  );
  useEffect(() => setReady(false), [stream]);
  const columns = schema.data?.columns || [];

  function pick(id) {
    setTemplate(id);
    if (id) setText(fill(id, stream, columns));
  }
  const running = run.status === 'running' || run.status === 'starting';
  return (
    <Page title="SQL" actions={<a href="#/sql/applications">Applications</a>}>
      <SqlTabs current="editor" />
      <Source stream={stream} setStream={setStream} />
      <Schema stream={stream} schema={schema} />
      <section class="panel" aria-labelledby="sql-query">
        <h2 id="sql-query">Query</h2>
        <div class="row">
          <Select
            label="Template"
            value={template}
            options={[{ value: '', label: 'Choose a template…' }, ...templates.map((t) => ({ value: t.id, label: t.label }))]}
            onChange={(e) => pick(e.currentTarget.value)}
          />
        </div>
        <SqlEditor
          value={text}
          onChange={(t) => {
            setText(t);
            setValidation({ checking: true });
          }}
          onValidated={setValidation}
          schema={stream ? { [stream]: columns.map((c) => c.name) } : {}}
        />
        <Validation v={validation} />
        <div class="row buttons-inline">
          <button type="button" disabled={running || !text.trim()} onClick={() => start(text)}>
            Run
          </button>
          <button type="button" class="secondary" disabled={!running} onClick={stop}>
            Stop
          </button>
          <button type="button" class="secondary" disabled={!text.trim()} onClick={() => setDeploying(true)}>
            Deploy…
          </button>
        </div>
      </section>
      {run.status !== 'idle' || run.error ? (
        <section class="panel" aria-labelledby="sql-results">
          <h2 id="sql-results">Results</h2>
          <p role="status" class="run-status">
            {run.status === 'starting' && 'Starting…'}
            {run.status === 'running' && `Running as ${run.name}: ${fmtNumber(run.total)} rows received.`}
            {run.status === 'ended' && `Stopped: ${fmtNumber(run.total)} rows received.`}
          </p>
          <ErrorBanner error={run.error} />
          {run.status !== 'idle' && (
            <div class="results-grid">
              <ResultsTable columns={run.columns} rows={run.rows} />
              <ResultsChart columns={run.columns} rows={run.rows} />
            </div>
          )}
        </section>
      ) : null}
      {deploying && (
        <DeployDialog
          sql={text}
          source={stream || validation?.description?.source}
          onClose={() => setDeploying(false)}
          onDeployed={() => {
            setDeploying(false);
            go('/sql/applications');
          }}
        />
      )}
    </Page>
  );
}

export const routes = [
  { path: '/sql', view: SqlConsole, nav: 'SQL' },
  { path: '/sql/applications', view: Applications },
];
