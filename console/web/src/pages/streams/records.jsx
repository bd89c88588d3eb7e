// The record browser of a stream's page: read one shard or all of them
// from a position while the page is open, show each record decoded, and
// find records by partition key among those read.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ErrorBanner, Field, Select, fmtNumber, fmtTime } from '../../ui.jsx';
import { decode } from './decode.js';
import { tail } from './tail.js';

// keep bounds the records held in the page: the latest ones win.
const keep = 2000;
// keepBytes bounds the base64 data those records hold.
const keepBytes = 32 << 20;
// shown bounds the rows drawn.
const shown = 500;

const positions = [
  { value: 'TRIM_HORIZON', label: 'TRIM_HORIZON (oldest record kept)' },
  { value: 'LATEST', label: 'LATEST (new records only)' },
  { value: 'AT_SEQUENCE_NUMBER', label: 'AT_SEQUENCE_NUMBER' },
  { value: 'AT_TIMESTAMP', label: 'AT_TIMESTAMP' },
];

const modes = [
  { value: 'auto', label: 'Auto (JSON, text or bytes)' },
  { value: 'json', label: 'JSON' },
  { value: 'text', label: 'UTF-8 text' },
  { value: 'hex', label: 'Bytes (hex)' },
];

// localInput is a Date as a datetime-local input's value.
function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function RecordBrowser({ stream, shards }) {
  const [shard, setShard] = useState('');
  const [position, setPosition] = useState('TRIM_HORIZON');
  const [sequence, setSequence] = useState('');
  const [at, setAt] = useState(() => localInput(new Date(Date.now() - 3600e3)));
  const [mode, setMode] = useState('auto');
  const [key, setKey] = useState('');
  const [run, setRun] = useState(null); // the settings being read, or null
  const [records, setRecords] = useState([]);
  const [total, setTotal] = useState(0);
  const [state, setState] = useState({ shards: new Set(), closed: new Set(), error: null });
  const [formError, setFormError] = useState(null);
  const buf = useRef([]);

  useEffect(() => {
    if (!run) return undefined;
    const ctl = new AbortController();
    buf.current = [];
    setRecords([]);
    setTotal(0);
    setState({ shards: new Set(), closed: new Set(), error: null });
    // Batches arrive from several shards' loops: gather them and redraw
    // at most every 300 ms.
    let dirty = false;
    let count = 0;
    let held = 0; // base64 bytes in buf
    const flush = setInterval(() => {
      if (!dirty) return;
      dirty = false;
      setRecords(buf.current.slice());
      setTotal(count);
    }, 300);
    tail({
      stream,
      shardId: run.shard,
      position: run.position,
      signal: ctl.signal,
      onRecords: (id, recs) => {
        for (const r of recs) {
          buf.current.push({ ...r, ShardId: id });
          held += r.Data ? r.Data.length : 0;
        }
        // Bounded by count and by bytes: 2000 records of 1 MiB would be
        // gigabytes of base64 in the tab.
        let drop = Math.max(0, buf.current.length - keep);
        let dropped = 0;
        for (let i = 0; i < drop; i++) dropped += buf.current[i].Data ? buf.current[i].Data.length : 0;
        while (held - dropped > keepBytes && drop < buf.current.length - 1) {
          dropped += buf.current[drop].Data ? buf.current[drop].Data.length : 0;
          drop++;
        }
        if (drop > 0) {
          buf.current.splice(0, drop);
          held -= dropped;
        }
        count += recs.length;
        dirty = true;
      },
      onState: (s) => setState((prev) => ({ ...s, error: s.error || prev.error })),
    });
    return () => {
      ctl.abort();
      clearInterval(flush);
    };
  }, [run, stream]);

  function start(e) {
    e.preventDefault();
    setFormError(null);
    const pos = { type: position };
    if (position === 'AT_SEQUENCE_NUMBER') {
      if (!shard) return setFormError({ type: 'Choose a shard', message: 'a sequence number belongs to one shard' });
      if (!/^\d+$/.test(sequence.trim())) return setFormError({ type: 'Sequence number', message: 'digits only' });
      pos.sequenceNumber = sequence.trim();
    }
    if (position === 'AT_TIMESTAMP') {
      const t = new Date(at).getTime();
      if (Number.isNaN(t)) return setFormError({ type: 'Timestamp', message: 'not a date and time' });
      pos.timestamp = t;
    }
    setRun({ shard, position: pos, id: Date.now() });
  }

  const wanted = key.trim();
  const matching = useMemo(
    () => (wanted ? records.filter((r) => r.PartitionKey === wanted) : records),
    [records, wanted],
  );
  const rows = matching.slice(-shown);

  return (
    <section aria-label="Record browser" class="panel records">
      <h2>Records</h2>
      <form class="row" onSubmit={start}>
        <Select
          label="Shard"
          value={shard}
          onChange={(e) => setShard(e.currentTarget.value)}
          options={[{ value: '', label: 'All shards' }, ...shards.map((s) => s.ShardId)]}
        />
        <Select label="Start position" value={position} onChange={(e) => setPosition(e.currentTarget.value)} options={positions} />
        {position === 'AT_SEQUENCE_NUMBER' && (
          <Field label="Sequence number" value={sequence} onInput={(e) => setSequence(e.currentTarget.value)} class="mono" />
        )}
        {position === 'AT_TIMESTAMP' && (
          <Field label="Timestamp" type="datetime-local" value={at} onInput={(e) => setAt(e.currentTarget.value)} />
        )}
        <div class="field">
          <span>&nbsp;</span>
          <div class="buttons-inline">
            <button type="submit">{run ? 'Restart reading' : 'Start reading'}</button>
            {run && (
              <button type="button" class="secondary" onClick={() => setRun(null)}>
                Stop
              </button>
            )}
          </div>
        </div>
      </form>
      <div class="row">
        <Select label="Show data as" value={mode} onChange={(e) => setMode(e.currentTarget.value)} options={modes} />
        <Field
          label="Find by partition key"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          placeholder="exact partition key"
          hint="Kinesis has no index by key: this filters the records read above, it does not search the stream."
        />
      </div>
      <ErrorBanner error={formError || state.error} />
      <p class="status" aria-live="polite">
        {run
          ? `Reading ${state.shards.size} shard${state.shards.size === 1 ? '' : 's'}` +
            (state.closed.size ? ` (${state.closed.size} closed shard${state.closed.size === 1 ? '' : 's'} read to the end)` : '') +
            ` · ${fmtNumber(total)} records read` +
            (wanted ? ` · ${fmtNumber(matching.length)} with key ${wanted}` : '') +
            (records.length < total ? ` · the latest ${fmtNumber(records.length)} kept` : '')
          : 'Not reading. Choose a position and start reading; the page polls GetRecords while it is open.'}
      </p>
      {run && rows.length === 0 && <p class="empty">No records {wanted ? 'with this key ' : ''}yet.</p>}
      {rows.length > 0 && (
        <table aria-label="Records" class="records-table">
          <thead>
            <tr>
              <th scope="col">Shard</th>
              <th scope="col">Sequence number</th>
              <th scope="col">Partition key</th>
              <th scope="col">Arrival time</th>
              <th scope="col">Data</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const d = decode(r.Data, mode);
              return (
                <tr key={r.ShardId + r.SequenceNumber}>
                  <td class="mono shard-id">{r.ShardId}</td>
                  <td class="mono seq">{r.SequenceNumber}</td>
                  <td class="mono">{r.PartitionKey}</td>
                  <td>{fmtTime(r.ApproximateArrivalTimestamp)}</td>
                  <td>
                    <span class={`kind kind-${d.kind}`}>
                      {d.kind}
                      {d.note ? ` (${d.note})` : ''} · {d.size} B
                    </span>
                    <pre class="data">{d.text}</pre>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
