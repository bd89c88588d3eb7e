// Short descriptions of a delivery stream's source and destination for the
// list and the delivery stream's page.

// bucketName is the bucket of an S3 bucket ARN ("arn:aws:s3:::logs").
export function bucketName(arn) {
  return (arn || '').replace(/^arn:[^:]*:s3:::/, '');
}

// streamName is the stream of a Kinesis stream ARN.
export function streamName(arn) {
  const i = (arn || '').indexOf(':stream/');
  return i >= 0 ? arn.slice(i + ':stream/'.length) : arn || '';
}

export function describeSource(d) {
  const k = d.Source?.KinesisStreamSourceDescription;
  if (k) return 'Kinesis stream ' + streamName(k.KinesisStreamARN);
  return 'Direct PUT';
}

export function describeDestination(dest) {
  if (!dest) return '';
  const s3 = dest.ExtendedS3DestinationDescription || dest.S3DestinationDescription;
  if (s3) return `s3://${bucketName(s3.BucketARN)}/${s3.Prefix || ''}`;
  const es = dest.ElasticsearchDestinationDescription;
  if (es) return `Elasticsearch ${es.IndexName}${es.ClusterEndpoint ? ' at ' + es.ClusterEndpoint : ''}`;
  const os = dest.AmazonopensearchserviceDestinationDescription;
  if (os) return `OpenSearch ${os.IndexName}${os.ClusterEndpoint ? ' at ' + os.ClusterEndpoint : ''}`;
  return dest.DestinationId || '';
}

// hints prints buffering hints as "5 MiB or 300 s".
export function hints(h) {
  if (!h) return '';
  return `${h.SizeInMBs ?? '-'} MiB or ${h.IntervalInSeconds ?? '-'} s`;
}
