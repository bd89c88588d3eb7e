// LineChart draws time series with uPlot. data is uPlot's columnar form:
// [xs (epoch seconds), ys of series 1, ys of series 2, ...]; series names
// them: [{label, stroke?}]. It redraws in place when data changes.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export function LineChart({ title, series, data, height = 180, yLabel }) {
  const box = useRef(null);
  const plot = useRef(null);
  const shape = series.map((s) => s.label).join('\u0000');
  useEffect(() => {
    const opts = {
      title,
      width: Math.max(320, box.current.clientWidth || 600),
      height,
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: s.stroke || palette[i % palette.length], width: 1.5 }))],
      axes: [{}, { label: yLabel }],
      scales: { x: { time: true } },
    };
    plot.current = new uPlot(opts, data, box.current);
    // The element is captured: a resize observed just before unmount may
    // call back after Preact has cleared box.current.
    const el = box.current;
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(320, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape, title, height, yLabel]);
  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
  return <div class="chart" ref={box} role="img" aria-label={title} />;
}
