// Run: a bare SELECT as a temporary application (what `spate sql run`
// does), its rows read from GET /v1/applications/{name}/results (signed
// Server-Sent Events) into a table and a chart. Stop ends the stream and
// deletes the application (the server also deletes a temporary one when
// its last reader leaves, so a closed tab cleans up too).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, analytics, events } from '../../api.js';
import { LineChart } from '../../chart.jsx';
import { Select } from '../../ui.jsx';

// keepRows is how many rows the page keeps (the chart's history); the
// table shows the newest shownRows.
const keepRows = 1000;
const shownRows = 100;
// flushMs batches bursts of rows (a query over the stream's history emits
// many at once) into one render.
const flushMs = 200;

const isTimestamp = (v) => typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v);

// useRun answers {state, run(sql), stop()}; state is {status: idle |
// starting | running | ended, name, columns, rows: [{t, v}] newest last,
// total, error}.
export function useRun() {
  const [state, setState] = useState({ status: 'idle', columns: [], rows: [], total: 0 });
  const cur = useRef(null); // {ctl, name, pending: [], timer}

  function end(status, error) {
    const c = cur.current;
    if (!c) return;
    cur.current = null;
    c.ctl.abort();
    clearInterval(c.timer);
    flush(c);
    setState((s) => ({ ...s, status, error: error ?? s.error }));
    // Delete it now rather than when the server notices the reader left;
    // it may be gone already.
    analytics('DELETE', `/v1/applications/${encodeURIComponent(c.name)}`).catch(() => {});
  }

  function flush(c) {
    if (!c.pending.length) return;
    const batch = c.pending;
    c.pending = [];
    setState((s) => ({ ...s, rows: s.rows.concat(batch).slice(-keepRows), total: s.total + batch.length }));
  }

  async function run(sql) {
    end('ended');
    const name = 'console-' + Math.random().toString(36).slice(2, 10);
    const c = { ctl: new AbortController(), name, pending: [], timer: null };
    cur.current = c;
    setState({ status: 'starting', name, columns: [], rows: [], total: 0, error: null });
    try {
      await analytics('POST', '/v1/applications', { name, sql, temporary: true });
    } catch (error) {
      if (cur.current === c) {
        cur.current = null;
        setState((s) => ({ ...s, status: 'idle', error }));
      }
      return;
    }
    if (cur.current !== c) return;
    c.timer = setInterval(() => flush(c), flushMs);
    setState((s) => ({ ...s, status: 'running' }));
    try {
      await events(
        'kinesisanalytics',
        `/v1/applications/${encodeURIComponent(name)}/results`,
        (ev, data) => {
          if (ev === 'columns') setState((s) => ({ ...s, columns: JSON.parse(data) }));
          else if (ev === 'row') c.pending.push({ t: Date.now() / 1000, v: JSON.parse(data) });
          else if (ev === 'error') {
            const e = JSON.parse(data);
            throw new ApiError(e.__type, e.message, 200);
          }
        },
        c.ctl.signal,
      );
      if (cur.current === c) end('ended', new ApiError('InternalFailure', 'the server ended the results stream', 0));
    } catch (error) {
      if (cur.current === c && error.name !== 'AbortError') end('ended', error);
    }
  }

  useEffect(() => () => end('ended'), []);
  return { state, run, stop: () => end('ended') };
}

// fmtStamp shows a result timestamp in local time: the time of day when
// it is today, else the date too (the cell's title has the exact value).
function fmtStamp(v) {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return v;
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }) + (d.getMilliseconds() ? `.${String(d.getMilliseconds()).padStart(3, '0')}` : '');
  return d.toDateString() === new Date().toDateString() ? time : `${d.toLocaleDateString()} ${time}`;
}

const whole = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const cents = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

// cell formats one value; fraction is true for a column holding numbers
// with a fraction, which all get two decimals so that they line up.
function cell(v, fraction) {
  if (v === null || v === undefined) return <span class="null">NULL</span>;
  if (typeof v === 'number') {
    // Below a cent, two decimals would read 0.00: keep three digits.
    if (v !== 0 && Math.abs(v) < 0.01) return String(Number(v.toPrecision(3)));
    return (fraction ? cents : whole).format(v);
  }
  if (isTimestamp(v)) return fmtStamp(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// ResultsTable shows the newest rows first under the query's columns, in
// a fixed layout: a wider value does not shift the columns.
export function ResultsTable({ columns, rows }) {
  if (!columns.length) return <p class="empty">Waiting for the query's columns…</p>;
  const numeric = new Set(columns.filter((c) => rows.some((r) => typeof r.v[c] === 'number')));
  const fraction = new Set(columns.filter((c) => rows.some((r) => typeof r.v[c] === 'number' && !Number.isInteger(r.v[c]))));
  const shown = rows.slice(-shownRows).reverse();
  return (
    // Scrollable, so focusable: the keyboard can scroll it too.
    <div class="sql-results" tabIndex={0} role="region" aria-label="Result rows, newest first">
      <table aria-label="Result rows" class="fixed">
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" class={numeric.has(c) ? 'num' : ''} title={c}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((r) => (
            <tr>
              {columns.map((c) => (
                <td class={numeric.has(c) ? 'num' : ''} title={r.v[c] === undefined ? '' : JSON.stringify(r.v[c])}>
                  {cell(r.v[c], fraction.has(c))}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {!rows.length && <p class="empty">No rows yet: a windowed query writes a row when its window closes.</p>}
    </div>
  );
}

// chartShape works out what to plot: x is the first timestamp column (the
// window time) or the rows' arrival time; with a text key column, one
// series per key (the first 8 seen) of the chosen measure, else one
// series per numeric column.
export function chartShape(columns, rows, measure) {
  const timeCol = columns.find((c) => rows.some((r) => isTimestamp(r.v[c])));
  const numeric = columns.filter((c) => rows.some((r) => typeof r.v[c] === 'number'));
  const keyCol = columns.find((c) => c !== timeCol && rows.some((r) => typeof r.v[c] === 'string' && !isTimestamp(r.v[c])));
  const xOf = (r) => (timeCol && isTimestamp(r.v[timeCol]) ? Date.parse(r.v[timeCol]) / 1000 : r.t);
  const xs = [...new Set(rows.map(xOf))].sort((a, b) => a - b);
  // One time alone would make the time axis span years: give it a
  // neighbour ten seconds before, with no values.
  if (xs.length === 1) xs.unshift(xs[0] - 10);
  const at = new Map(xs.map((x, i) => [x, i]));
  const m = numeric.includes(measure) ? measure : numeric[numeric.length - 1];
  let series;
  let ys;
  if (keyCol && m) {
    const keys = [];
    for (const r of rows) {
      const k = r.v[keyCol];
      if (typeof k === 'string' && !keys.includes(k) && keys.length < 8) keys.push(k);
    }
    series = keys.map((k) => ({ label: k }));
    ys = keys.map(() => new Array(xs.length).fill(null));
    for (const r of rows) {
      const i = keys.indexOf(r.v[keyCol]);
      if (i >= 0 && typeof r.v[m] === 'number') ys[i][at.get(xOf(r))] = r.v[m];
    }
  } else {
    series = numeric.map((c) => ({ label: c }));
    ys = numeric.map(() => new Array(xs.length).fill(null));
    for (const r of rows) numeric.forEach((c, i) => typeof r.v[c] === 'number' && (ys[i][at.get(xOf(r))] = r.v[c]));
  }
  return { timeCol, keyCol, numeric, measure: m, series, data: [xs, ...ys] };
}

// ResultsChart plots the rows' numbers against their window time.
export function ResultsChart({ columns, rows }) {
  const [measure, setMeasure] = useState(null);
  const shape = useMemo(() => chartShape(columns, rows, measure), [columns, rows, measure]);
  if (!shape.numeric.length || !shape.series.length) return <p class="empty">No numeric column to chart yet.</p>;
  const x = shape.timeCol ? shape.timeCol : 'arrival time';
  return (
    <div>
      {shape.keyCol && (
        <div class="row">
          <Select
            label="Chart column"
            value={shape.measure}
            options={shape.numeric}
            onChange={(e) => setMeasure(e.currentTarget.value)}
          />
        </div>
      )}
      <LineChart
        title={shape.keyCol ? `${shape.measure} by ${shape.keyCol} over ${x}` : `Numbers over ${x}`}
        series={shape.series}
        data={shape.data}
        height={220}
      />
    </div>
  );
}
