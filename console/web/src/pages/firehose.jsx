// The Delivery streams area: the list, the create form and a delivery
// stream's page (pages/firehose/*). Everything goes through the Firehose
// API the SDKs use; the delivery errors come from DescribeDeliveryStream's
// SpateDeliveryErrors (docs/api.md).
import { firehose, listAllDeliveryStreams } from '../api.js';
import { href } from '../router.js';
import { ErrorBanner, Page, Table, fmtTime, useAsync } from '../ui.jsx';
import { CreateDeliveryStream } from './firehose/create.jsx';
import { DeliveryStreamPage } from './firehose/detail.jsx';
import { describeDestination, describeSource } from './firehose/describe.js';
import './firehose.css';

// listAll pages through ListDeliveryStreams and describes each.
async function listAll(signal) {
  const names = await listAllDeliveryStreams(undefined, signal);
  return Promise.all(
    names.map((name) =>
      firehose('DescribeDeliveryStream', { DeliveryStreamName: name }, signal).then(
        (r) => r.DeliveryStreamDescription,
        // Deleted between the list and the describe: show the name alone.
        (error) => ({ DeliveryStreamName: name, error }),
      ),
    ),
  );
}

function FirehoseList() {
  const { data, error, loading, reload } = useAsync(listAll, [], 5000);
  const columns = [
    { key: 'name', label: 'Name', render: (d) => <a href={href('/firehose/' + encodeURIComponent(d.DeliveryStreamName))}>{d.DeliveryStreamName}</a> },
    {
      key: 'status',
      label: 'Status',
      render: (d) => (
        <>
          <span class={'status-' + d.DeliveryStreamStatus}>{d.DeliveryStreamStatus || ''}</span>
          {d.SpateDeliveryErrors?.length > 0 && <span class="fh-badge-bad"> · failing: {d.SpateDeliveryErrors[0].ErrorCode}</span>}
        </>
      ),
    },
    { key: 'source', label: 'Source', render: (d) => (d.DeliveryStreamType ? describeSource(d) : '') },
    { key: 'destination', label: 'Destination', render: (d) => (d.Destinations ? describeDestination(d.Destinations[0]) : '') },
    { key: 'created', label: 'Created', render: (d) => fmtTime(d.CreateTimestamp) },
  ];
  return (
    <Page
      title="Delivery streams"
      actions={
        <>
          <button type="button" class="secondary" onClick={reload} disabled={loading}>
            Refresh
          </button>
          <a class="button" href={href('/firehose/new')}>
            Create delivery stream
          </a>
        </>
      }
    >
      <ErrorBanner error={error} />
      {data && <Table label="Delivery streams" columns={columns} rows={data} empty="No delivery streams yet. Create one to deliver records to S3 or Elasticsearch." />}
    </Page>
  );
}

export const routes = [
  { path: '/firehose', view: FirehoseList, nav: 'Delivery streams' },
  { path: '/firehose/new', view: CreateDeliveryStream },
  { path: '/firehose/:name', view: DeliveryStreamPage },
];
