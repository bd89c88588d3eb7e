// Drives Spate's Firehose API with @aws-sdk/client-firehose, default
// settings, over all 12 actions (see check.cjs for the contract with
// jsclients_test.go).
//
// Usage: node firehose.cjs ENDPOINT NAME_PREFIX BUCKET
//
// Besides the actions, the report says what the Go test must find in S3:
// "s3": {PREFIX: N} means the objects under PREFIX hold exactly the N lines
// {"n": 0, "pad": "..."} to {"n": N-1, ...}, the pad as long as "pad_len".
"use strict";

const { FirehoseClient } = require("@aws-sdk/client-firehose");
const { Report, assert, clientConfig, main, waitFor, waitGone } = require("./check.cjs");

const ROLE = "arn:aws:iam::000000000000:role/firehose";
const PAD_LEN = 1000;

async function run(endpoint, prefix, bucket) {
  const r = new Report("@aws-sdk/client-firehose", new FirehoseClient(clientConfig(endpoint)));
  const a = prefix + "-a";
  const b = prefix + "-b";
  const missing = prefix + "-missing";

  const describe = async (name) =>
    (await r.send("DescribeDeliveryStream", { DeliveryStreamName: name })).DeliveryStreamDescription;
  const wait = (name, probe) => waitFor(name, async () => { const d = await describe(name); return probe(d) && d; });
  // IntervalInSeconds 0: deliver as soon as records arrive (the API allows
  // it; this SDK does not check ranges).
  const s3 = (dest) => ({
    RoleARN: ROLE, BucketARN: "arn:aws:s3:::" + bucket, Prefix: dest,
    BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
  });

  // --- create, describe, list -------------------------------------------
  for (const [name, dest] of [[a, "js-v3/"], [b, "js-v3-b/"]]) {
    const out = await r.send("CreateDeliveryStream", {
      DeliveryStreamName: name, DeliveryStreamType: "DirectPut",
      ExtendedS3DestinationConfiguration: s3(dest), Tags: [{ Key: "team", Value: "data" }],
    });
    assert.ok(out.DeliveryStreamARN.endsWith(":deliverystream/" + name), out.DeliveryStreamARN);
  }
  await r.fails("ResourceInUseException", "CreateDeliveryStream", { DeliveryStreamName: a, ExtendedS3DestinationConfiguration: s3("x/") });
  await r.fails("InvalidArgumentException", "CreateDeliveryStream", {
    DeliveryStreamName: prefix + "-bad", ExtendedS3DestinationConfiguration: { ...s3("x/"), BucketARN: "not-an-arn" },
  });

  let d = await wait(a, (d) => d.DeliveryStreamStatus === "ACTIVE");
  assert.equal(d.DeliveryStreamType, "DirectPut");
  assert.equal(d.HasMoreDestinations, false);
  assert.ok(d.CreateTimestamp instanceof Date, "CreateTimestamp is a Date");
  const ext = d.Destinations[0].ExtendedS3DestinationDescription;
  assert.equal(ext.Prefix, "js-v3/");
  assert.equal(ext.BucketARN, "arn:aws:s3:::" + bucket);
  assert.deepEqual(ext.BufferingHints, { SizeInMBs: 1, IntervalInSeconds: 0 });
  await wait(b, (d) => d.DeliveryStreamStatus === "ACTIVE");
  await r.fails("ResourceNotFoundException", "DescribeDeliveryStream", { DeliveryStreamName: missing });

  const names = (await r.send("ListDeliveryStreams", { DeliveryStreamType: "DirectPut" })).DeliveryStreamNames;
  assert.deepEqual(names.filter((n) => n.startsWith(prefix)).sort(), [a, b]);
  const page = await r.send("ListDeliveryStreams", { Limit: 1, ExclusiveStartDeliveryStreamName: a });
  assert.deepEqual(page.DeliveryStreamNames.slice(0, 1), [b]);

  // --- tags -------------------------------------------------------------
  await r.send("TagDeliveryStream", { DeliveryStreamName: a, Tags: [{ Key: "env", Value: "test" }] });
  let tags = await r.send("ListTagsForDeliveryStream", { DeliveryStreamName: a });
  assert.deepEqual(tags.Tags.map((t) => [t.Key, t.Value]).sort(), [["env", "test"], ["team", "data"]]);
  assert.equal(tags.HasMoreTags, false);
  await r.send("UntagDeliveryStream", { DeliveryStreamName: a, TagKeys: ["team"] });
  tags = await r.send("ListTagsForDeliveryStream", { DeliveryStreamName: a });
  assert.deepEqual(tags.Tags, [{ Key: "env", Value: "test" }]);

  // --- records ----------------------------------------------------------
  const line = (n) => new TextEncoder().encode(JSON.stringify({ n, pad: "x".repeat(PAD_LEN) }) + "\n");
  const ids = [(await r.send("PutRecord", { DeliveryStreamName: a, Record: { Data: line(0) } })).RecordId];
  const batch = await r.send("PutRecordBatch", { DeliveryStreamName: a, Records: [1, 2, 3, 4].map((n) => ({ Data: line(n) })) });
  assert.equal(batch.FailedPutCount, 0);
  assert.equal(batch.RequestResponses.length, 4);
  ids.push(...batch.RequestResponses.map((x) => x.RecordId));
  assert.ok(ids.every(Boolean) && new Set(ids).size === ids.length, `RecordIds ${ids}`);
  r.fields.s3 = { "js-v3/": 5 };
  r.fields.pad_len = PAD_LEN;
  await r.fails("ResourceNotFoundException", "PutRecord", { DeliveryStreamName: missing, Record: { Data: new Uint8Array([1]) } });

  // --- update, encryption, delete (on b) --------------------------------
  d = await describe(b);
  const version = d.VersionId;
  const destId = d.Destinations[0].DestinationId;
  await r.send("UpdateDestination", {
    DeliveryStreamName: b, CurrentDeliveryStreamVersionId: version, DestinationId: destId,
    ExtendedS3DestinationUpdate: { Prefix: "js-v3-b2/" },
  });
  d = await describe(b);
  assert.equal(d.Destinations[0].ExtendedS3DestinationDescription.Prefix, "js-v3-b2/");
  assert.equal(Number(d.VersionId), Number(version) + 1);
  await r.fails("ConcurrentModificationException", "UpdateDestination", {
    DeliveryStreamName: b, CurrentDeliveryStreamVersionId: version, DestinationId: destId,
    ExtendedS3DestinationUpdate: { Prefix: "stale/" },
  });

  await r.send("StartDeliveryStreamEncryption", {
    DeliveryStreamName: b, DeliveryStreamEncryptionConfigurationInput: { KeyType: "AWS_OWNED_CMK" },
  });
  d = await wait(b, (d) => d.DeliveryStreamEncryptionConfiguration?.Status === "ENABLED");
  assert.equal(d.DeliveryStreamEncryptionConfiguration.KeyType, "AWS_OWNED_CMK");
  await r.send("StopDeliveryStreamEncryption", { DeliveryStreamName: b });
  await wait(b, (d) => d.DeliveryStreamEncryptionConfiguration?.Status === "DISABLED");

  await r.send("DeleteDeliveryStream", { DeliveryStreamName: b });
  await waitGone(b, async () => (await describe(b)).DeliveryStreamStatus);
  await r.fails("ResourceNotFoundException", "DeleteDeliveryStream", { DeliveryStreamName: b });

  r.finish();
}

main(run, "BUCKET");
