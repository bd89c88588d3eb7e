package analytics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics exposes every application's counters. The counters live in the
// applications (and in their checkpoints, so they survive restarts); the
// collector reads them at scrape time instead of keeping a second copy.
type metrics struct {
	s                 *Service
	rowsIn            *prometheus.Desc
	rowsOut           *prometheus.Desc
	late              *prometheus.Desc
	bad               *prometheus.Desc
	lag               *prometheus.Desc
	watermark         *prometheus.Desc
	running           *prometheus.Desc
	checkpointSeconds prometheus.Histogram
}

func newMetrics(s *Service) *metrics {
	app := []string{"application"}
	return &metrics{
		s:         s,
		rowsIn:    prometheus.NewDesc("spate_analytics_rows_in_total", "Input records an application has read.", app, nil),
		rowsOut:   prometheus.NewDesc("spate_analytics_rows_out_total", "Result rows an application has written.", app, nil),
		late:      prometheus.NewDesc("spate_analytics_late_rows_total", "Rows dropped as later than the allowed lateness (written to the late_rows stream when one is set).", app, nil),
		bad:       prometheus.NewDesc("spate_analytics_bad_rows_total", "Records that are not JSON objects or lack a usable event time.", app, nil),
		lag:       prometheus.NewDesc("spate_analytics_input_lag_milliseconds", "Age of the oldest unread record, per input shard.", []string{"application", "shard"}, nil),
		watermark: prometheus.NewDesc("spate_analytics_watermark_seconds", "An application's event-time watermark, as Unix seconds.", app, nil),
		running:   prometheus.NewDesc("spate_analytics_application_running", "1 when an application is RUNNING.", app, nil),
		checkpointSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "spate_analytics_checkpoint_seconds",
			Help:    "Time to commit an application's checkpoint (results, window state and positions in one batch).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.rowsIn, m.rowsOut, m.late, m.bad, m.lag, m.watermark, m.running} {
		ch <- d
	}
	m.checkpointSeconds.Describe(ch)
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.s.mu.Lock()
	apps := make([]*app, 0, len(m.s.apps))
	for _, a := range m.s.apps {
		apps = append(apps, a)
	}
	m.s.mu.Unlock()
	for _, a := range apps {
		a.mu.Lock()
		st, name, running := a.stats, a.meta.Name, a.status == StatusRunning
		a.mu.Unlock()
		ch <- prometheus.MustNewConstMetric(m.rowsIn, prometheus.CounterValue, float64(st.rowsIn), name)
		ch <- prometheus.MustNewConstMetric(m.rowsOut, prometheus.CounterValue, float64(st.rowsOut), name)
		ch <- prometheus.MustNewConstMetric(m.late, prometheus.CounterValue, float64(st.late), name)
		ch <- prometheus.MustNewConstMetric(m.bad, prometheus.CounterValue, float64(st.bad), name)
		r := 0.0
		if running {
			r = 1
		}
		ch <- prometheus.MustNewConstMetric(m.running, prometheus.GaugeValue, r, name)
		if st.watermark != noWatermark && st.watermark != 0 {
			ch <- prometheus.MustNewConstMetric(m.watermark, prometheus.GaugeValue, float64(st.watermark)/1000, name)
		}
		for _, in := range st.inputs {
			ch <- prometheus.MustNewConstMetric(m.lag, prometheus.GaugeValue, float64(in.LagMillis), name, in.ShardID)
		}
	}
	m.checkpointSeconds.Collect(ch)
}
