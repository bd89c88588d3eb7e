package firehose

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the per-delivery-stream Prometheus series. Names follow
// Firehose's CloudWatch metrics (IncomingRecords, DeliveryToS3.Records,
// DeliveryToS3.Success, DataFreshness, ...) in Prometheus form.
type metrics struct {
	incomingRecords *prometheus.CounterVec
	incomingBytes   *prometheus.CounterVec
	records         *prometheus.CounterVec
	bytes           *prometheus.CounterVec
	attempts        *prometheus.CounterVec
	retries         *prometheus.CounterVec
	backups         *prometheus.CounterVec
	kplUserRecords  *prometheus.CounterVec
	kplInvalid      *prometheus.CounterVec
	// Lambda processor (ExecuteProcessing.Success and .Duration,
	// SucceedProcessing.Records).
	invocations        *prometheus.CounterVec
	invocationDuration *prometheus.HistogramVec
	processedRecords   *prometheus.CounterVec
	freshness          *prometheus.Desc
	s                  *Service
}

func newMetrics(reg prometheus.Registerer, s *Service) (*metrics, error) {
	ds := []string{"delivery_stream"}
	dest := []string{"delivery_stream", "destination"}
	m := &metrics{
		s: s,
		incomingRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_firehose_incoming_records_total", Help: "Records accepted by PutRecord and PutRecordBatch."}, ds),
		incomingBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_firehose_incoming_bytes_total", Help: "Bytes accepted by PutRecord and PutRecordBatch."}, ds),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_firehose_delivery_records_total", Help: "Records delivered (DeliveryToS3.Records, DeliveryToElasticsearch.Records)."}, dest),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_firehose_delivery_bytes_total", Help: "Bytes of records delivered, before compression."}, dest),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_firehose_delivery_attempts_total", Help: "Batch delivery attempts by result (DeliveryToS3.Success is success over all)."},
			[]string{"delivery_stream", "destination", "result"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_firehose_retries_total", Help: "Delivery retries (batches for S3, documents for Elasticsearch)."}, dest),
		backups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_firehose_backup_records_total", Help: "Records written to the S3 backup, by reason (failed, all)."},
			[]string{"delivery_stream", "reason"}),
		kplUserRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_firehose_kpl_user_records_total", Help: "User records taken out of KPL aggregates read from a Kinesis stream source."}, ds),
		kplInvalid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_firehose_kpl_invalid_aggregates_total", Help: "Records with the KPL magic that did not de-aggregate (wrong MD5, bad protobuf), delivered as they are."}, ds),
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_firehose_processing_invocations_total", Help: "Invocations of the Lambda processor by result (ExecuteProcessing.Success is success over all)."},
			[]string{"delivery_stream", "result"}),
		invocationDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "spate_firehose_processing_duration_seconds", Help: "Time of an invocation of the Lambda processor (ExecuteProcessing.Duration).",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9)}, ds),
		processedRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_firehose_processing_records_total", Help: "Records through the Lambda processor by outcome: ok, dropped, failed (SucceedProcessing.Records is ok plus dropped)."},
			[]string{"delivery_stream", "result"}),
		freshness: prometheus.NewDesc("spate_firehose_data_freshness_seconds",
			"Age of the oldest record not yet delivered (DataFreshness); 0 when everything is delivered.", ds, nil),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.incomingRecords, m.incomingBytes, m.records, m.bytes, m.attempts, m.retries, m.backups, m.kplUserRecords, m.kplInvalid, m.invocations, m.invocationDuration, m.processedRecords, m} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Describe and Collect make metrics a collector of DataFreshness, computed
// at scrape time from the workers.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) { ch <- m.freshness }

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	// Copy under the lock, read the workers outside it: a worker may hold
	// its checkpoint lock across a synced write.
	m.s.mu.Lock()
	streams := make(map[string]*deliveryStream, len(m.s.streams))
	for name, ds := range m.s.streams {
		streams[name] = ds
	}
	m.s.mu.Unlock()
	now := m.s.cfg.now()
	for name, ds := range streams {
		ch <- prometheus.MustNewConstMetric(m.freshness, prometheus.GaugeValue, dataFreshness(ds, now).Seconds(), name)
	}
}

// dataFreshness is the age of the oldest undelivered record of ds.
func dataFreshness(ds *deliveryStream, now time.Time) time.Duration {
	var oldest int64
	for _, w := range ds.follow.running() {
		if ms := w.oldestPendingMs(); ms != 0 && (oldest == 0 || ms < oldest) {
			oldest = ms
		}
	}
	if oldest == 0 {
		return 0
	}
	return max(0, now.Sub(time.UnixMilli(oldest)))
}

// DataFreshness returns the age of a delivery stream's oldest undelivered
// record (0 when everything is delivered).
func (s *Service) DataFreshness(name string) (time.Duration, error) {
	s.mu.Lock()
	ds, ok := s.streams[name]
	s.mu.Unlock()
	if !ok {
		return 0, s.notFound(name)
	}
	return dataFreshness(ds, s.cfg.now()), nil
}

func (m *metrics) incoming(name string, records, bytes int) {
	m.incomingRecords.WithLabelValues(name).Add(float64(records))
	m.incomingBytes.WithLabelValues(name).Add(float64(bytes))
}

func (m *metrics) delivered(name, dest string, records, bytes int) {
	m.records.WithLabelValues(name, dest).Add(float64(records))
	m.bytes.WithLabelValues(name, dest).Add(float64(bytes))
}

func (m *metrics) attempt(name, dest string, ok bool) {
	result := "success"
	if !ok {
		result = "failure"
	}
	m.attempts.WithLabelValues(name, dest, result).Inc()
}

func (m *metrics) retry(name, dest string) { m.retries.WithLabelValues(name, dest).Inc() }

// invocation counts one invocation of a Lambda processor.
func (m *metrics) invocation(name string, ok bool, took time.Duration) {
	result := "success"
	if !ok {
		result = "failure"
	}
	m.invocations.WithLabelValues(name, result).Inc()
	m.invocationDuration.WithLabelValues(name).Observe(took.Seconds())
}

// processed counts the outcomes of a batch's records through a Lambda
// processor.
func (m *metrics) processed(name string, ok, dropped, failed int) {
	m.processedRecords.WithLabelValues(name, "ok").Add(float64(ok))
	m.processedRecords.WithLabelValues(name, "dropped").Add(float64(dropped))
	m.processedRecords.WithLabelValues(name, "failed").Add(float64(failed))
}

func (m *metrics) retryN(name, dest string, n int) {
	m.retries.WithLabelValues(name, dest).Add(float64(n))
}

func (m *metrics) backup(name, reason string, n int) {
	m.backups.WithLabelValues(name, reason).Add(float64(n))
}

// forget drops the series of a deleted delivery stream.
func (m *metrics) forget(name string) {
	match := prometheus.Labels{"delivery_stream": name}
	for _, v := range []*prometheus.CounterVec{m.incomingRecords, m.incomingBytes, m.records, m.bytes, m.attempts, m.retries, m.backups, m.kplUserRecords, m.kplInvalid, m.invocations, m.processedRecords} {
		v.DeletePartialMatch(match)
	}
	m.invocationDuration.DeletePartialMatch(match)
}
