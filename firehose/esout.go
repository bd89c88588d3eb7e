package firehose

import (
	"context"
	"fmt"
	"time"

	"github.com/spatehq/spate/firehose/essink"
)

// esDeliverer is the deliverer of an Elasticsearch (or OpenSearch)
// destination. Documents get their _id from the record's sequence number,
// so delivering a batch again overwrites the same documents.
type esDeliverer struct {
	s         *Service
	name      string
	client    *essink.Client
	index     string
	rotation  essink.Rotation
	retryFor  time.Duration
	backupAll bool
	// backup writes, to the destination's S3Configuration, failed
	// documents and records the Lambda processor failed under its error
	// prefix and (S3BackupMode AllDocuments) every source record under its
	// prefix.
	backup *s3Writer
	lambda *lambdaProcessor // nil: no Lambda processor
	// errs records failed deliveries (nil when the deliverer only
	// validates a configuration); dest names the destination there.
	errs *errorLog
	dest string
}

func (d *esDeliverer) kind() string { return "elasticsearch" }

// newESDeliverer parses an Elasticsearch configuration (with defaults
// applied); errors are InvalidArgumentException naming the member under
// where.
func (s *Service) newESDeliverer(m dsMeta, where string, c ElasticsearchDestinationConfiguration) (*esDeliverer, error) {
	url := c.ClusterEndpoint
	if url == "" {
		url = s.cfg.esURL
	}
	var d *esDeliverer
	// A failing cluster shows in the delivery errors while delivery
	// retries, not only once RetryOptions.DurationInSeconds has run out.
	client, err := essink.New(url, essink.WithOnRetry(func(_ int, first essink.Failed) { d.retrying(first) }))
	if err != nil {
		return nil, invalid("%s.ClusterEndpoint %q: %v", where, url, err)
	}
	rotation, err := essink.ParseRotation(c.IndexRotationPeriod)
	if err != nil {
		return nil, invalid("%s.IndexRotationPeriod: %v", where, err)
	}
	out, err := newPlainS3Writer(s, m, where+".S3Configuration", c.S3Configuration)
	if err != nil {
		return nil, err
	}
	procs, err := parseProcessors(where, c.ProcessingConfiguration)
	if err != nil {
		return nil, err
	}
	if procs.delimiter || procs.extractor != nil {
		return nil, invalid("%s.ProcessingConfiguration: an Elasticsearch destination takes only a Lambda processor (AppendDelimiterToRecord and MetadataExtraction apply to S3 destinations)", where)
	}
	if procs.lambda != nil && s.cfg.invoker == nil {
		return nil, invalid("%s.ProcessingConfiguration: a Lambda processor needs functions, which are not enabled on this server", where)
	}
	d = &esDeliverer{
		s: s, name: m.Name, client: client, index: c.IndexName, rotation: rotation,
		retryFor:  time.Duration(*c.RetryOptions.DurationInSeconds) * time.Second,
		backupAll: c.S3BackupMode == "AllDocuments",
		backup:    out,
		lambda:    procs.lambda,
	}
	return d, nil
}

// retrying records that documents of a batch failed and are retried.
func (d *esDeliverer) retrying(first essink.Failed) {
	d.errs.add(d.s.cfg.now(), d.dest, esErrorCode(d.dest, first),
		"documents not indexed; retrying until RetryOptions.DurationInSeconds runs out, then backing them up to S3: "+first.Error)
}

// prepare does nothing ahead: an Elasticsearch delivery is one bulk
// exchange, all I/O.
func (d *esDeliverer) prepare(b *batch) (shipment, error) { return &esShipment{d: d, b: b}, nil }

type esShipment struct {
	d *esDeliverer
	b *batch
}

func (s *esShipment) ship(ctx context.Context) error { return s.d.deliver(ctx, s.b) }

func (d *esDeliverer) deliver(ctx context.Context, b *batch) error {
	if len(b.records) == 0 {
		return nil
	}
	var docs []essink.Doc
	var failed []failedRecord
	views := map[string]recordView{}
	bytes := 0 // of the documents sent
	for i, r := range b.records {
		index := essink.IndexName(d.index, d.rotation, r.ArrivalTime)
		id := b.recordID(i)
		rv := recordView{seq: r.SequenceNumber, arrival: r.ArrivalTime, data: r.Data,
			extraJSON: map[string]any{"esDocumentId": id, "esIndexName": index}}
		if b.lambda != nil {
			switch o := b.lambda[i]; o.result {
			case outcomeDropped:
				continue
			case outcomeFailed:
				failed = append(failed, failedRecord{kind: errProcessingFailed, code: o.code, message: o.message,
					rec: recordView{seq: r.SequenceNumber, arrival: r.ArrivalTime, data: r.Data}, attempts: o.attempts, lambdaARN: d.lambda.arn})
				continue
			default:
				rv.data = o.data
			}
		}
		if err := essink.ValidateJSONObject(rv.data); err != nil {
			failed = append(failed, failedRecord{kind: errElasticsearchFailed, code: "InvalidDocument", message: err.Error(), rec: rv})
			continue
		}
		views[id] = rv
		bytes += len(rv.data)
		docs = append(docs, essink.Doc{ID: id, Index: index, Body: rv.data})
	}
	if len(docs) > 0 {
		res, err := d.client.Deliver(ctx, docs, d.retryFor)
		if err != nil {
			return err // ctx is done
		}
		if res.Retried > 0 {
			d.s.metrics.retryN(d.name, d.kind(), res.Retried)
		}
		if len(res.Failed) == 0 {
			d.errs.clear(d.dest)
		} else {
			f := res.Failed[0]
			d.errs.add(d.s.cfg.now(), d.dest, esErrorCode(d.dest, f),
				fmt.Sprintf("%d of %d documents not indexed after %d attempts (backed up to S3); the first: %s", len(res.Failed), len(docs), f.Attempts, f.Error))
		}
		failedBytes := 0
		for _, f := range res.Failed {
			failed = append(failed, failedRecord{kind: errElasticsearchFailed, code: fmt.Sprintf("%d", f.Status), message: f.Error, rec: views[f.Doc.ID]})
			failedBytes += len(f.Doc.Body)
		}
		d.s.metrics.delivered(d.name, d.kind(), res.Succeeded, bytes-failedBytes)
	}
	// What Elasticsearch would not take is backed up, never dropped. The
	// upload is retried on its own, so documents that succeeded are not
	// sent again (unless the process stops before the backup lands).
	var objects []object
	if len(failed) > 0 {
		errObjects, err := d.backup.errorObjects(b, failed)
		if err != nil {
			return err
		}
		objects = append(objects, errObjects...)
		d.s.metrics.backup(d.name, "failed", len(failed))
	}
	if d.backupAll {
		all, err := d.backup.rawObject(b)
		if err != nil {
			return err
		}
		objects = append(objects, all)
		d.s.metrics.backup(d.name, "all", len(b.records))
	}
	return d.s.retry(ctx, func() error {
		err := d.backup.put(ctx, objects)
		switch {
		case err != nil && ctx.Err() == nil:
			d.s.metrics.retry(d.name, "s3-backup")
			d.s.cfg.logger.Warn("backup to S3 failed; retrying", "delivery_stream", d.name, "err", err)
			d.errs.add(d.s.cfg.now(), ErrorDestinationS3Backup, s3ErrorCode(err), err.Error())
		case err == nil && len(objects) > 0:
			d.errs.clear(ErrorDestinationS3Backup)
		}
		return err
	})
}

// newDeliverer builds the deliverer of m's destination, which records its
// failures in errs, and returns its effective buffering hints.
func (s *Service) newDeliverer(m dsMeta, errs *errorLog) (deliverer, *BufferingHints, error) {
	switch m.DestKind {
	case "ExtendedS3", "S3":
		c := withS3Defaults(*m.S3)
		w, err := newS3Writer(s, m, m.DestKind+"DestinationConfiguration", &c)
		if err != nil {
			return nil, nil, err
		}
		return &s3Deliverer{w: w}, c.BufferingHints, nil
	case "Elasticsearch", "Amazonopensearchservice":
		c := withESDefaults(*m.ES)
		d, err := s.newESDeliverer(m, m.DestKind+"DestinationConfiguration", c)
		if err != nil {
			return nil, nil, err
		}
		d.errs, d.dest = errs, destinationLabel(m)
		return d, c.BufferingHints, nil
	}
	return nil, nil, fmt.Errorf("unknown destination kind %q", m.DestKind)
}
