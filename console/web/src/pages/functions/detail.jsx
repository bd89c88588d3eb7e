// A function's page: its configuration, the names of its environment
// variables (never their values), charts of its metrics, a test invoke
// and its event source mappings.
import { useState } from 'preact/hooks';
import { metrics } from '../../api.js';
import { LineChart } from '../../chart.jsx';
import { useMetricSeries } from '../../metrics.js';
import { go, href } from '../../router.js';
import { ConfigPanel, ConfirmDelete, ErrorBanner, Page, fmtBytes, fmtNumber, fmtTime, useAsync } from '../../ui.jsx';
import { deleteFunction, getFunction, invoke, lastModified } from './lambda.js';
import { Mappings } from './mappings.jsx';

export function FunctionDetail({ name }) {
  const fn = useAsync((signal) => getFunction(name, signal), [name], 5000);
  const [deleting, setDeleting] = useState(false);
  const c = fn.data?.Configuration;
  return (
    <Page
      title={name}
      actions={
        <>
          <a href={href('/functions')}>All functions</a>
          <button type="button" class="danger" onClick={() => setDeleting(true)}>
            Delete function
          </button>
        </>
      }
    >
      <ErrorBanner error={fn.error} />
      {c && (
        <div class="grid2">
          <Configuration c={c} reserved={fn.data.Concurrency?.ReservedConcurrentExecutions} />
          <Environment vars={c.Environment?.Variables} />
        </div>
      )}
      <FunctionMetrics name={name} />
      <TestInvoke name={name} />
      <Mappings functionName={name} />
      {deleting && <DeleteFunction name={name} onClose={() => setDeleting(false)} />}
    </Page>
  );
}

function Configuration({ c, reserved }) {
  const rows = [
    ['ARN', <code>{c.FunctionArn}</code>],
    ['Runtime', c.Runtime],
    ['Handler', c.Handler],
    ['Memory', `${c.MemorySize} MB`],
    ['Timeout', `${c.Timeout} s`],
    ['State', <span class={'status-' + (c.State || '').toUpperCase()}>{c.State}</span>],
    ['Last update', c.LastUpdateStatus],
    ['Last modified', fmtTime(lastModified(c.LastModified))],
    ['Code size', fmtBytes(c.CodeSize)],
    ['Code SHA-256', <code>{c.CodeSha256}</code>],
    ['Reserved concurrency', reserved === undefined ? 'none (the server’s unreserved limit)' : String(reserved)],
  ];
  if (c.Description) rows.splice(1, 0, ['Description', c.Description]);
  return <ConfigPanel rows={rows} cls="fn-config" panelCls="panel fn-panel" />;
}

// Environment lists the variables' names only: their values may hold
// secrets (keys, passwords), and a page is easily shared or screenshotted.
function Environment({ vars }) {
  const names = Object.keys(vars || {}).sort();
  return (
    <section class="panel fn-panel" aria-label="Environment variables">
      <h2>Environment variables</h2>
      <p class="fn-note">Names only: values are not shown because they may hold secrets.</p>
      {names.length === 0 ? (
        <p class="empty">None.</p>
      ) : (
        <ul class="fn-env">
          {names.map((n) => (
            <li>
              <code>{n}</code>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

const counters = {
  spate_function_invocations_total: 'Invocations',
  spate_function_errors_total: 'Errors',
  spate_function_throttles_total: 'Throttles',
};

// pickRate keeps the function's counters; pickDuration the histogram's sum
// and count.
const pickRate = (m) => counters[m.name] ?? null;
const pickDuration = (m) =>
  m.name === 'spate_function_duration_seconds_sum' ? 'sum' : m.name === 'spate_function_duration_seconds_count' ? 'count' : null;

// column returns the ys of key in a useMetricSeries state (nulls when the
// key has no series yet).
function column(state, key) {
  const i = state.keys.indexOf(key);
  return i >= 0 ? state.data[i + 1] : state.data[0].map(() => null);
}

function FunctionMetrics({ name }) {
  const filters = { function: name, name_prefix: 'spate_function_' };
  const rates = useMetricSeries(filters, pickRate);
  const dur = useMetricSeries(filters, pickDuration);
  const totals = useAsync((signal) => metrics(filters, signal), [name], 2000);
  const labels = Object.values(counters);
  const rateData = [rates.data[0], ...labels.map((l) => column(rates, l))];
  // The histogram's sum and count come as cumulative values (type
  // histogram, not counter): the mean of each interval is their growth's
  // ratio, as CloudWatch's Duration average per period.
  const sums = column(dur, 'sum');
  const counts = column(dur, 'count');
  const mean = counts.map((n, i) => {
    const dn = i > 0 && n !== null && counts[i - 1] !== null ? n - counts[i - 1] : 0;
    return dn > 0 ? ((sums[i] - sums[i - 1]) / dn) * 1000 : null;
  });
  const total = (metric) =>
    (totals.data?.metrics || []).filter((m) => m.name === metric).reduce((a, m) => a + m.value, 0);
  const n = total('spate_function_duration_seconds_count');
  return (
    <section aria-label="Metrics">
      <h2>Metrics</h2>
      <ErrorBanner error={rates.error || totals.error} />
      {totals.data && (
        <dl class="fn-totals" aria-label="Totals since the server started">
          <dt>Invocations</dt>
          <dd data-metric="invocations">{fmtNumber(total('spate_function_invocations_total'))}</dd>
          <dt>Errors</dt>
          <dd data-metric="errors">{fmtNumber(total('spate_function_errors_total'))}</dd>
          <dt>Throttles</dt>
          <dd data-metric="throttles">{fmtNumber(total('spate_function_throttles_total'))}</dd>
          <dt>Mean duration</dt>
          <dd>{n > 0 ? `${fmtNumber((total('spate_function_duration_seconds_sum') / n) * 1000)} ms` : '–'}</dd>
        </dl>
      )}
      <div class="grid2" data-points={rates.data[0].length}>
        <LineChart title="Invocations, errors and throttles per second" series={labels.map((label) => ({ label }))} data={rateData} yLabel="per second" />
        <LineChart title="Mean duration (ms)" series={[{ label: 'Mean duration' }]} data={[dur.data[0], mean]} yLabel="ms" />
      </div>
    </section>
  );
}

const sampleEvent = JSON.stringify(
  {
    Records: [
      {
        eventSource: 'aws:kinesis',
        kinesis: { partitionKey: 'test', sequenceNumber: '1', data: btoa('{"hello":"world"}') },
      },
    ],
  },
  null,
  2,
);

function TestInvoke({ name }) {
  const [payload, setPayload] = useState(sampleEvent);
  const [out, setOut] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setError(null);
    setOut(null);
    try {
      JSON.parse(payload);
    } catch (err) {
      setError({ type: 'InvalidRequestContentException', message: `The event is not JSON: ${err.message}` });
      return;
    }
    setBusy(true);
    try {
      setOut(await invoke(name, payload));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="panel fn-panel" aria-label="Test invoke">
      <h2>Test invoke</h2>
      <form onSubmit={submit}>
        <label class="field">
          <span>Event (JSON)</span>
          <textarea rows="8" class="fn-payload" value={payload} onInput={(e) => setPayload(e.currentTarget.value)} />
          <small>Runs the function synchronously (RequestResponse) and shows its answer and the last 4 KB of its log.</small>
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Invoking…' : 'Invoke'}
        </button>
      </form>
      <ErrorBanner error={error} />
      {out && (
        <div class="fn-result">
          <p role="status">
            {out.functionError ? (
              <span class="status-FAILED">Function error: {out.functionError}</span>
            ) : (
              <span class="ok">Succeeded</span>
            )}{' '}
            (HTTP {out.status})
          </p>
          <h3 id="fn-response">Response</h3>
          <pre aria-labelledby="fn-response" tabIndex={0}>{pretty(out.payload)}</pre>
          <h3 id="fn-log">Log tail</h3>
          <pre aria-labelledby="fn-log" tabIndex={0}>{out.log || '(empty)'}</pre>
        </div>
      )}
    </section>
  );
}

function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function DeleteFunction({ name, onClose }) {
  return (
    <ConfirmDelete title={`Delete function ${name}?`} remove={() => deleteFunction(name)} onDone={() => go('/functions')} onClose={onClose}>
      <p>Its code, configuration and tags are deleted. Its event source mappings are not: delete them first.</p>
    </ConfirmDelete>
  );
}
