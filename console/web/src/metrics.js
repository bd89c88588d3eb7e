// useMetricSeries polls GET /v1/metrics and keeps a rolling window of
// points for the chart: counters become per-second rates between two
// scrapes, gauges stay as they are.
import { useEffect, useState } from 'preact/hooks';
import { metrics } from './api.js';

// pick(sample) => a key or null: which series of the sample to keep and
// under which name (e.g. the shard id). Several series with one key add up.
export function useMetricSeries(filters, pick, { intervalMs = 2000, points = 90 } = {}) {
  const [state, setState] = useState({ keys: [], data: [[]], error: null });
  const filterKey = JSON.stringify(filters);
  useEffect(() => {
    let prev = null;
    const rows = []; // [{t, values: Map key->value}]
    let stopped = false;
    const ctl = new AbortController();
    let busy = false;
    async function tick() {
      // One scrape at a time: answers out of order would make negative or
      // doubled rates, and a slow server would pile up requests.
      if (busy) return;
      busy = true;
      try {
        const snap = await metrics(filters, ctl.signal);
        const cur = new Map();
        const types = new Map();
        for (const m of snap.metrics || []) {
          const key = pick(m);
          if (key === null || key === undefined) continue;
          cur.set(key, (cur.get(key) || 0) + m.value);
          types.set(key, m.type);
        }
        const t = snap.timestamp / 1000;
        if (prev) {
          const values = new Map();
          for (const [k, v] of cur) {
            if (types.get(k) === 'counter') {
              const dt = t - prev.t;
              values.set(k, dt > 0 ? Math.max(0, (v - (prev.values.get(k) ?? v)) / dt) : 0);
            } else {
              values.set(k, v);
            }
          }
          rows.push({ t, values });
          if (rows.length > points) rows.shift();
        }
        prev = { t, values: cur };
        const keys = [...new Set(rows.flatMap((r) => [...r.values.keys()]))].sort();
        const data = [rows.map((r) => r.t), ...keys.map((k) => rows.map((r) => r.values.get(k) ?? null))];
        if (!stopped) setState({ keys, data, error: null });
      } catch (error) {
        if (!stopped && error.name !== 'AbortError') setState((s) => ({ ...s, error }));
      } finally {
        busy = false;
      }
    }
    tick();
    const t = setInterval(tick, intervalMs);
    return () => {
      stopped = true;
      clearInterval(t);
      ctl.abort();
    };
  }, [filterKey, intervalMs, points]);
  return state;
}
