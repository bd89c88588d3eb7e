// The create form: a Direct PUT or Kinesis stream source, and an S3 or
// Elasticsearch destination, as CreateDeliveryStream takes them.
import { useState } from 'preact/hooks';
import { firehose, getConfig, kinesis, listAllStreams } from '../../api.js';
import { go, href } from '../../router.js';
import { ErrorBanner, Field, Page, Select, useAsync } from '../../ui.jsx';

// Spate does not check roles, but the model requires one.
const roleARN = 'arn:aws:iam::000000000000:role/firehose';

const compressions = ['UNCOMPRESSED', 'GZIP', 'ZIP', 'Snappy', 'HADOOP_SNAPPY'];

function streamARN(name) {
  const c = getConfig() || {};
  return `arn:aws:kinesis:${c.region || 'us-east-1'}:${c.accountId || '000000000000'}:stream/${name}`;
}

// request builds CreateDeliveryStream's input from the form's values.
export function request(v) {
  const input = { DeliveryStreamName: v.name.trim(), DeliveryStreamType: v.source === 'kinesis' ? 'KinesisStreamAsSource' : 'DirectPut' };
  if (v.source === 'kinesis') {
    input.KinesisStreamSourceConfiguration = { KinesisStreamARN: streamARN(v.stream), RoleARN: roleARN };
  }
  const bufferingHints = { SizeInMBs: Number(v.sizeMB), IntervalInSeconds: Number(v.intervalS) };
  if (v.destination === 's3') {
    input.ExtendedS3DestinationConfiguration = {
      RoleARN: roleARN,
      BucketARN: 'arn:aws:s3:::' + v.bucket.trim(),
      Prefix: v.prefix || undefined,
      ErrorOutputPrefix: v.errorPrefix || undefined,
      CompressionFormat: v.compression,
      BufferingHints: bufferingHints,
    };
    if (v.newline) {
      input.ExtendedS3DestinationConfiguration.ProcessingConfiguration = {
        Enabled: true,
        Processors: [{ Type: 'AppendDelimiterToRecord' }],
      };
    }
  } else {
    input.ElasticsearchDestinationConfiguration = {
      RoleARN: roleARN,
      ClusterEndpoint: v.endpoint.trim() || undefined,
      IndexName: v.index.trim(),
      IndexRotationPeriod: v.rotation,
      BufferingHints: bufferingHints,
      S3BackupMode: v.backupMode,
      S3Configuration: {
        RoleARN: roleARN,
        BucketARN: 'arn:aws:s3:::' + v.backupBucket.trim(),
        Prefix: v.backupPrefix || undefined,
      },
    };
  }
  return input;
}

export function CreateDeliveryStream() {
  const [v, setV] = useState({
    name: '',
    source: 'direct',
    stream: '',
    destination: 's3',
    bucket: '',
    prefix: '',
    errorPrefix: '',
    compression: 'UNCOMPRESSED',
    newline: true,
    sizeMB: '5',
    intervalS: '300',
    endpoint: '',
    index: '',
    backupBucket: '',
    backupPrefix: '',
    backupMode: 'FailedDocumentsOnly',
    rotation: 'OneDay',
  });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setV({ ...v, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const streams = useAsync(
    async (signal) => (v.source === 'kinesis' ? (await listAllStreams(signal)).map((s) => s.StreamName) : []),
    [v.source],
  );
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const input = request(v);
      await firehose('CreateDeliveryStream', input);
      go('/firehose/' + encodeURIComponent(input.DeliveryStreamName));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  const streamOptions = [{ value: '', label: 'Choose a stream' }, ...(streams.data || [])];
  return (
    <Page title="Create delivery stream">
      <form class="fh-form" onSubmit={submit} aria-label="Create delivery stream">
        <Field label="Name" value={v.name} onInput={set('name')} required pattern="[a-zA-Z0-9_.\-]{1,64}" hint="1 to 64 of a-z, A-Z, 0-9, _ . -" />
        <fieldset>
          <legend>Source</legend>
          <Select
            label="Records come from"
            value={v.source}
            onChange={set('source')}
            options={[
              { value: 'direct', label: 'Direct PUT (PutRecord, PutRecordBatch)' },
              { value: 'kinesis', label: 'Kinesis stream' },
            ]}
          />
          {v.source === 'kinesis' && (
            <>
              <Select label="Kinesis stream" value={v.stream} onChange={set('stream')} options={streamOptions} required />
              <ErrorBanner error={streams.error} />
            </>
          )}
        </fieldset>
        <fieldset>
          <legend>Destination</legend>
          <Select
            label="Deliver to"
            value={v.destination}
            onChange={set('destination')}
            options={[
              { value: 's3', label: 'Amazon S3' },
              { value: 'es', label: 'Elasticsearch' },
            ]}
          />
          {v.destination === 's3' ? (
            <>
              <Field label="Bucket" value={v.bucket} onInput={set('bucket')} required hint="On the server's S3 endpoint (spate serve --s3-endpoint)" />
              <div class="row">
                <Field label="Prefix" value={v.prefix} onInput={set('prefix')} placeholder="logs/" />
                <Field label="Error prefix" value={v.errorPrefix} onInput={set('errorPrefix')} placeholder="errors/" />
              </div>
              <div class="row">
                <Select label="Compression" value={v.compression} onChange={set('compression')} options={compressions} />
                <label class="fh-check">
                  <input type="checkbox" checked={v.newline} onChange={set('newline')} /> Newline after each record
                </label>
              </div>
            </>
          ) : (
            <>
              <Field label="Cluster endpoint" value={v.endpoint} onInput={set('endpoint')} placeholder="http://localhost:9200" hint="Empty: the server's --es-url" />
              <div class="row">
                <Field label="Index" value={v.index} onInput={set('index')} required />
                <Select
                  label="Index rotation"
                  value={v.rotation}
                  onChange={set('rotation')}
                  options={[
                    { value: 'NoRotation', label: 'None' },
                    { value: 'OneHour', label: 'Hourly' },
                    { value: 'OneDay', label: 'Daily' },
                    { value: 'OneWeek', label: 'Weekly' },
                    { value: 'OneMonth', label: 'Monthly' },
                  ]}
                />
              </div>
              <div class="row">
                <Field label="Backup bucket" value={v.backupBucket} onInput={set('backupBucket')} required hint="Failed documents are written here" />
                <Field label="Backup prefix" value={v.backupPrefix} onInput={set('backupPrefix')} />
                <Select
                  label="Back up"
                  value={v.backupMode}
                  onChange={set('backupMode')}
                  options={[
                    { value: 'FailedDocumentsOnly', label: 'Failed documents only' },
                    { value: 'AllDocuments', label: 'All documents' },
                  ]}
                />
              </div>
            </>
          )}
          <div class="row">
            <Field label="Buffer size (MiB)" type="number" min="1" max="128" value={v.sizeMB} onInput={set('sizeMB')} required />
            <Field label="Buffer interval (seconds)" type="number" min="0" max="900" value={v.intervalS} onInput={set('intervalS')} required />
          </div>
        </fieldset>
        <ErrorBanner error={error} />
        <div class="buttons">
          <a href={href('/firehose')}>Cancel</a>
          <button type="submit" disabled={busy}>
            Create
          </button>
        </div>
      </form>
    </Page>
  );
}
