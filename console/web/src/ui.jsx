// Small building blocks every page shares. Keep them plain: labelled
// controls (the end-to-end tests and screen readers find them by their
// labels), no colour-only meaning, everything reachable by keyboard.
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';

// useAsync runs load (an async function of an AbortSignal) now and whenever
// deps change, and every intervalMs if given; it answers
// {data, error, loading, reload}. A load still running when the next starts
// is aborted; a periodic refresh waits for it instead (a load slower than
// intervalMs, a long list on a busy server, would otherwise never finish).
export function useAsync(load, deps = [], intervalMs = 0) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const ctl = useRef(null);
  const running = useRef(false);
  const run = useCallback(async () => {
    ctl.current?.abort();
    const c = new AbortController();
    ctl.current = c;
    running.current = true;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await load(c.signal);
      if (!c.signal.aborted) setState({ data, error: null, loading: false });
    } catch (error) {
      if (!c.signal.aborted) setState((s) => ({ data: s.data, error, loading: false }));
    } finally {
      if (ctl.current === c) running.current = false;
    }
  }, deps);
  useEffect(() => {
    run();
    let t;
    if (intervalMs > 0) t = setInterval(() => running.current || run(), intervalMs);
    return () => {
      clearInterval(t);
      ctl.current?.abort();
    };
  }, [run, intervalMs]);
  return { ...state, reload: run };
}

// Page is a page's frame: its title, actions at the right, then children.
export function Page({ title, actions, children }) {
  useEffect(() => {
    document.title = `${title} · Spate`;
  }, [title]);
  return (
    <section class="page" aria-label={title}>
      <header class="page-head">
        <h1>{title}</h1>
        <div class="actions">{actions}</div>
      </header>
      {children}
    </section>
  );
}

// ErrorBanner shows an ApiError (type and message) or nothing.
export function ErrorBanner({ error }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <strong>{error.type || 'Error'}</strong>: {error.message}
    </div>
  );
}

// Field is a labelled input; extra props go to the <input>.
export function Field({ label, hint, id, ...props }) {
  const auto = useId();
  const inputId = id || auto;
  return (
    <div class="field">
      <label for={inputId}>{label}</label>
      <input id={inputId} aria-describedby={hint ? inputId + '-hint' : undefined} {...props} />
      {hint && <small id={inputId + '-hint'}>{hint}</small>}
    </div>
  );
}

// Select is a labelled <select> of options [{value, label}] or strings.
// The label is tied to the control by id, not by wrapping it: a <select>
// inside its <label> would get its chosen option's text in its name.
export function Select({ label, options, id, ...props }) {
  const auto = useId();
  const selectId = id || auto;
  return (
    <div class="field">
      <label for={selectId}>{label}</label>
      <select id={selectId} {...props}>
        {options.map((o) =>
          typeof o === 'string' ? <option value={o}>{o}</option> : <option value={o.value}>{o.label}</option>,
        )}
      </select>
    </div>
  );
}

// Table renders rows under columns [{key, label, render?(row), numeric?}].
export function Table({ columns, rows, empty = 'Nothing here yet.', label }) {
  if (!rows || rows.length === 0) return <p class="empty">{empty}</p>;
  return (
    <table aria-label={label}>
      <thead>
        <tr>
          {columns.map((c) => (
            <th scope="col" class={c.numeric ? 'num' : ''}>
              {c.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr>
            {columns.map((c) => (
              <td class={c.numeric ? 'num' : ''}>{c.render ? c.render(r) : String(r[c.key] ?? '')}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// Dialog is a modal form: <Dialog title onClose>{fields}</Dialog>, closed
// with Escape.
export function Dialog({ title, onClose, children }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    d?.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog ref={ref} aria-label={title} onClose={onClose} onCancel={onClose}>
      <h2>{title}</h2>
      {children}
    </dialog>
  );
}

const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

// fmtNumber formats a number for people: grouped, at most two decimals.
export function fmtNumber(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '';
  return numberFormat.format(n);
}

// fmtBytes formats a byte count with a binary unit.
export function fmtBytes(n) {
  if (n === null || n === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

// fmtTime formats epoch seconds or milliseconds (or a Date) as local time.
export function fmtTime(t) {
  if (t === null || t === undefined || t === '') return '';
  const d = t instanceof Date ? t : new Date(typeof t === 'number' && t < 1e12 ? t * 1000 : t);
  return d.toLocaleString();
}

// ConfirmDelete asks before a deletion: remove() runs on the confirm
// button (label, "Delete" unless given), then onDone(); a failure stays in
// the dialog. The button is disabled while remove() runs, so a double
// click deletes once (a second call would fail with
// ResourceNotFoundException).
export function ConfirmDelete({ title, label = 'Delete', remove, onDone, onClose, children }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function confirm(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await remove();
      onDone();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  return (
    <Dialog title={title} onClose={onClose}>
      <form method="dialog" onSubmit={confirm}>
        {children}
        <ErrorBanner error={error} />
        <div class="buttons">
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="danger" disabled={busy}>
            {label}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

// ConfigPanel is a resource's configuration as a labelled panel of
// [name, value] rows (a value may be an element); cls styles the list.
export function ConfigPanel({ rows, cls, panelCls = 'panel' }) {
  return (
    <section class={panelCls} aria-label="Configuration">
      <h2>Configuration</h2>
      <dl class={cls}>
        {rows.map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </>
        ))}
      </dl>
    </section>
  );
}
