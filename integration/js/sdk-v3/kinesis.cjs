// Drives Spate's Kinesis API with @aws-sdk/client-kinesis, default settings,
// over every action the package has (see check.cjs for the contract with
// jsclients_test.go). The client speaks HTTP/2 without TLS to an http://
// endpoint: that is its default, not a setting of ours.
//
// Usage: node kinesis.cjs ENDPOINT STREAM_NAME_PREFIX
"use strict";

const crypto = require("node:crypto");
const { KinesisClient } = require("@aws-sdk/client-kinesis");
const { Report, assert, clientConfig, main, waitFor, waitGone } = require("./check.cjs");

const MAX_HASH_KEY = (1n << 128n) - 1n;

// NEWER_THAN_MODEL are actions the SDK has that are newer than the Kinesis
// API model Spate implements (shared/aws-models/kinesis-2013-12-02.json, 39
// actions): Spate answers them UnknownOperationException.
const NEWER_THAN_MODEL = ["CreateChannel", "DeleteChannel", "DescribeChannel", "ListChannels", "UpdateChannel",
  "UpdateStreamRecordDistributionStrategy"];

async function run(endpoint, prefix) {
  const r = new Report("@aws-sdk/client-kinesis", new KinesisClient(clientConfig(endpoint)));
  const name = prefix + "-main";
  const other = prefix + "-other";
  const missing = prefix + "-missing";

  const summary = async (stream = name) =>
    (await r.send("DescribeStreamSummary", { StreamName: stream })).StreamDescriptionSummary;
  const waitActive = (stream = name) =>
    waitFor(stream + " ACTIVE", async () => { const s = await summary(stream); return s.StreamStatus === "ACTIVE" && s; });

  // --- streams ----------------------------------------------------------
  await r.send("CreateStream", { StreamName: name, ShardCount: 2 });
  let s = await waitActive();
  assert.equal(s.OpenShardCount, 2);
  assert.deepEqual(s.StreamModeDetails, { StreamMode: "PROVISIONED" });
  assert.equal(s.RetentionPeriodHours, 24);
  assert.ok(s.StreamCreationTimestamp instanceof Date, "StreamCreationTimestamp is a Date");
  const arn = s.StreamARN;
  assert.match(arn, /^arn:aws:kinesis:us-east-1:\d{12}:stream\//);
  assert.ok(arn.endsWith(":stream/" + name), arn);
  await r.fails("ResourceInUseException", "CreateStream", { StreamName: name, ShardCount: 1 });
  await r.fails("ValidationException", "CreateStream", { StreamName: "no spaces allowed", ShardCount: 1 });

  const d = (await r.send("DescribeStream", { StreamName: name })).StreamDescription;
  assert.equal(d.StreamARN, arn);
  assert.equal(d.HasMoreShards, false);
  assert.deepEqual(d.Shards.map((x) => x.ShardId), ["shardId-000000000000", "shardId-000000000001"]);
  assert.equal(d.Shards[0].HashKeyRange.StartingHashKey, "0");
  assert.equal(d.Shards[1].HashKeyRange.EndingHashKey, MAX_HASH_KEY.toString());
  assert.equal(BigInt(d.Shards[1].HashKeyRange.StartingHashKey), BigInt(d.Shards[0].HashKeyRange.EndingHashKey) + 1n);
  await r.fails("ResourceNotFoundException", "DescribeStream", { StreamName: missing });

  let page = await r.send("ListShards", { StreamName: name, MaxResults: 1 });
  assert.deepEqual(page.Shards.map((x) => x.ShardId), ["shardId-000000000000"]);
  page = await r.send("ListShards", { NextToken: page.NextToken, MaxResults: 1 });
  assert.deepEqual(page.Shards.map((x) => x.ShardId), ["shardId-000000000001"]);

  await r.send("CreateStream", { StreamName: other, StreamModeDetails: { StreamMode: "ON_DEMAND" } });
  await waitActive(other);
  const names = [];
  let lp = await r.send("ListStreams", { Limit: 1 });
  for (;;) {
    names.push(...lp.StreamNames);
    if (!lp.HasMoreStreams) break;
    lp = await r.send("ListStreams", { Limit: 1, NextToken: lp.NextToken });
  }
  assert.ok(names.includes(name) && names.includes(other), `ListStreams paged by 1: ${names}`);
  assert.equal(new Set(names).size, names.length, "ListStreams repeats no name");

  const limits = await r.send("DescribeLimits", {});
  assert.ok(limits.ShardLimit >= 2 && limits.OpenShardCount >= 2, JSON.stringify(limits));

  // --- records ----------------------------------------------------------
  const payloads = [0, 1, 100, 1000, 4096].map((n) => new Uint8Array(crypto.randomBytes(n)));
  const seqs = [];
  let putShard;
  for (const data of payloads) {
    const out = await r.send("PutRecord", {
      StreamName: name, PartitionKey: "pk", Data: data,
      ...(seqs.length ? { SequenceNumberForOrdering: seqs[seqs.length - 1] } : {}),
    });
    putShard ??= out.ShardId;
    assert.equal(out.ShardId, putShard, "one partition key, one shard");
    seqs.push(out.SequenceNumber);
  }
  for (let i = 1; i < seqs.length; i++) {
    assert.ok(BigInt(seqs[i]) > BigInt(seqs[i - 1]), `sequence number ${seqs[i]} after ${seqs[i - 1]}`);
  }
  await r.fails("ResourceNotFoundException", "PutRecord", { StreamName: missing, PartitionKey: "k", Data: new Uint8Array([1]) });

  const entries = Array.from({ length: 10 }, (_, i) => ({
    Data: new TextEncoder().encode("batch-" + i), PartitionKey: "k" + i,
    ExplicitHashKey: i % 2 === 0 ? "0" : MAX_HASH_KEY.toString(),
  }));
  const batch = await r.send("PutRecords", { StreamName: name, Records: entries });
  assert.equal(batch.FailedRecordCount ?? 0, 0);
  assert.equal(batch.Records.length, entries.length);
  const byShard = {};
  batch.Records.forEach((res, i) => {
    assert.equal(res.ShardId, i % 2 === 0 ? "shardId-000000000000" : "shardId-000000000001", `entry ${i}`);
    (byShard[res.ShardId] ??= []).push(BigInt(res.SequenceNumber));
  });
  for (const got of Object.values(byShard)) {
    for (let i = 1; i < got.length; i++) assert.ok(got[i] > got[i - 1], "PutRecords sequence numbers grow per shard");
  }
  await r.fails("ValidationException", "PutRecords", {
    StreamName: name, Records: [{ Data: new Uint8Array([1]), PartitionKey: "k", ExplicitHashKey: "not a number" }],
  });

  const iterator = async (typ, extra = {}) =>
    (await r.send("GetShardIterator", { StreamName: name, ShardId: putShard, ShardIteratorType: typ, ...extra })).ShardIterator;
  const read = async (it) => {
    const recs = [];
    for (;;) {
      const got = await r.send("GetRecords", { ShardIterator: it });
      recs.push(...got.Records);
      if (got.Records.length === 0 && got.MillisBehindLatest === 0) return recs;
      it = got.NextShardIterator;
    }
  };
  const all = await read(await iterator("TRIM_HORIZON"));
  const mine = all.filter((x) => x.PartitionKey === "pk");
  assert.deepEqual(mine.map((x) => Buffer.from(x.Data).toString("hex")), payloads.map((p) => Buffer.from(p).toString("hex")),
    "GetRecords gives back the bytes put");
  assert.deepEqual(mine.map((x) => x.SequenceNumber), seqs);
  for (const x of mine) assert.ok(x.ApproximateArrivalTimestamp instanceof Date, "ApproximateArrivalTimestamp is a Date");
  const allSeqs = all.map((x) => x.SequenceNumber);
  const at = await read(await iterator("AT_SEQUENCE_NUMBER", { StartingSequenceNumber: seqs[2] }));
  assert.deepEqual(at.map((x) => x.SequenceNumber), allSeqs.slice(allSeqs.indexOf(seqs[2])));
  const after = await read(await iterator("AFTER_SEQUENCE_NUMBER", { StartingSequenceNumber: seqs[2] }));
  assert.deepEqual(after.map((x) => x.SequenceNumber), allSeqs.slice(allSeqs.indexOf(seqs[2]) + 1));
  assert.deepEqual(await read(await iterator("LATEST")), []);
  const since = await read(await iterator("AT_TIMESTAMP", { Timestamp: new Date(mine[0].ApproximateArrivalTimestamp.getTime() - 1000) }));
  assert.deepEqual(since.map((x) => x.SequenceNumber), allSeqs);
  await r.fails("ResourceNotFoundException", "GetShardIterator", { StreamName: name, ShardId: "shardId-000000000009", ShardIteratorType: "TRIM_HORIZON" });
  await r.fails("InvalidArgumentException", "GetRecords", { ShardIterator: "not-an-iterator" });

  // --- tags ---------------------------------------------------------------
  await r.send("AddTagsToStream", { StreamName: name, Tags: { team: "data", env: "test" } });
  let tags = await r.send("ListTagsForStream", { StreamName: name });
  assert.deepEqual(tags.Tags.map((t) => [t.Key, t.Value]).sort(), [["env", "test"], ["team", "data"]]);
  assert.equal(tags.HasMoreTags, false);
  await r.send("RemoveTagsFromStream", { StreamName: name, TagKeys: ["env"] });
  tags = await r.send("ListTagsForStream", { StreamName: name });
  assert.deepEqual(tags.Tags, [{ Key: "team", Value: "data" }]);

  await r.send("TagResource", { ResourceARN: arn, Tags: { owner: "js" } });
  tags = await r.send("ListTagsForResource", { ResourceARN: arn });
  assert.deepEqual(tags.Tags.map((t) => [t.Key, t.Value]).sort(), [["owner", "js"], ["team", "data"]]);
  await r.send("UntagResource", { ResourceARN: arn, TagKeys: ["team"] });
  tags = await r.send("ListTagsForResource", { ResourceARN: arn });
  assert.deepEqual(tags.Tags, [{ Key: "owner", Value: "js" }]);
  await r.fails("ResourceNotFoundException", "ListTagsForResource", { ResourceARN: arn.replace(/stream\/.*/, "stream/" + missing) });

  // --- resource policies ----------------------------------------------
  const account = arn.split(":")[4];
  const policy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Sid: "reader", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` },
      Action: ["kinesis:GetRecords", "kinesis:GetShardIterator"], Resource: arn }],
  });
  await r.send("PutResourcePolicy", { ResourceARN: arn, Policy: policy });
  const got = await r.send("GetResourcePolicy", { ResourceARN: arn });
  assert.deepEqual(JSON.parse(got.Policy), JSON.parse(policy));
  await r.send("DeleteResourcePolicy", { ResourceARN: arn });
  assert.deepEqual(JSON.parse((await r.send("GetResourcePolicy", { ResourceARN: arn })).Policy), {});

  // --- retention, monitoring -------------------------------------------
  await r.send("IncreaseStreamRetentionPeriod", { StreamName: name, RetentionPeriodHours: 48 });
  assert.equal((await waitActive()).RetentionPeriodHours, 48);
  await r.fails("InvalidArgumentException", "IncreaseStreamRetentionPeriod", { StreamName: name, RetentionPeriodHours: 24 });
  await r.send("DecreaseStreamRetentionPeriod", { StreamName: name, RetentionPeriodHours: 24 });
  assert.equal((await waitActive()).RetentionPeriodHours, 24);
  const on = await r.send("EnableEnhancedMonitoring", { StreamName: name, ShardLevelMetrics: ["IncomingBytes", "OutgoingRecords"] });
  assert.deepEqual([...on.DesiredShardLevelMetrics].sort(), ["IncomingBytes", "OutgoingRecords"]);
  const off = await r.send("DisableEnhancedMonitoring", { StreamName: name, ShardLevelMetrics: ["ALL"] });
  assert.deepEqual(off.DesiredShardLevelMetrics ?? [], []);

  // --- encryption, mode, record size, warm throughput, account --------
  await r.send("StartStreamEncryption", { StreamName: name, EncryptionType: "KMS", KeyId: "alias/aws/kinesis" });
  s = await waitActive();
  assert.equal(s.EncryptionType, "KMS");
  assert.equal(s.KeyId, "alias/aws/kinesis");
  const secret = new TextEncoder().encode("encrypted at rest, plain to the reader");
  const put = await r.send("PutRecord", { StreamName: name, PartitionKey: "pk", Data: secret });
  assert.equal(put.EncryptionType, "KMS", "PutRecord's EncryptionType while encrypted");
  const enc = await read(await iterator("AT_SEQUENCE_NUMBER", { StartingSequenceNumber: put.SequenceNumber }));
  assert.deepEqual(enc.map((x) => [Buffer.from(x.Data).toString(), x.EncryptionType]), [[Buffer.from(secret).toString(), "KMS"]]);
  await r.send("StopStreamEncryption", { StreamName: name, EncryptionType: "KMS", KeyId: "alias/aws/kinesis" });
  assert.equal((await waitActive()).EncryptionType, "NONE");

  await r.send("UpdateMaxRecordSize", { StreamARN: arn, MaxRecordSizeInKiB: 10240 });
  assert.equal((await waitActive()).MaxRecordSizeInKiB, 10240);
  const big = new Uint8Array(crypto.randomBytes(2 << 20)); // 2 MiB: above the old 1 MiB limit
  const bigPut = await r.send("PutRecord", { StreamName: name, PartitionKey: "pk", Data: big });
  const bigRead = await read(await iterator("AT_SEQUENCE_NUMBER", { StartingSequenceNumber: bigPut.SequenceNumber }));
  assert.equal(bigRead.length, 1);
  assert.ok(Buffer.from(bigRead[0].Data).equals(Buffer.from(big)), "a 2 MiB record round-trips");

  // Warm throughput needs the account's minimum throughput billing commitment.
  const acct = await r.send("DescribeAccountSettings", {});
  assert.ok(acct.MinimumThroughputBillingCommitment && acct.MinimumThroughputBillingCommitment.Status,
    `DescribeAccountSettings: ${JSON.stringify(acct)}`);
  const upd = await r.send("UpdateAccountSettings", { MinimumThroughputBillingCommitment: { Status: "ENABLED" } });
  assert.equal(upd.MinimumThroughputBillingCommitment.Status, "ENABLED");
  assert.equal((await r.send("DescribeAccountSettings", {})).MinimumThroughputBillingCommitment.Status, "ENABLED");
  await r.send("UpdateStreamMode", { StreamARN: arn, StreamModeDetails: { StreamMode: "ON_DEMAND" } });
  assert.deepEqual((await waitActive()).StreamModeDetails, { StreamMode: "ON_DEMAND" });
  const warm = await r.send("UpdateStreamWarmThroughput", { StreamName: name, WarmThroughputMiBps: 100 });
  assert.equal(warm.StreamARN, arn);
  assert.equal(warm.WarmThroughput.TargetMiBps, 100);
  await r.send("UpdateStreamMode", { StreamARN: arn, StreamModeDetails: { StreamMode: "PROVISIONED" } });
  assert.deepEqual((await waitActive()).StreamModeDetails, { StreamMode: "PROVISIONED" });
  await r.fails("InvalidArgumentException", "UpdateStreamWarmThroughput", { StreamName: name, WarmThroughputMiBps: 100 });

  // --- resharding (the stream is PROVISIONED again) -----------------------
  const scaled = await r.send("UpdateShardCount", { StreamName: name, TargetShardCount: 4, ScalingType: "UNIFORM_SCALING" });
  assert.equal(scaled.CurrentShardCount, 2);
  assert.equal(scaled.TargetShardCount, 4);
  assert.equal(scaled.StreamARN, arn);
  assert.equal((await waitActive()).OpenShardCount, 4);
  await r.fails("LimitExceededException", "UpdateShardCount", { StreamName: name, TargetShardCount: 9, ScalingType: "UNIFORM_SCALING" });
  // The shard the records went to is closed: read to its end, it answers
  // no NextShardIterator and names its children.
  let it = await iterator("TRIM_HORIZON");
  const closedRecs = [];
  let last;
  for (;;) {
    last = await r.send("GetRecords", { ShardIterator: it });
    closedRecs.push(...last.Records);
    if (!last.NextShardIterator) break;
    it = last.NextShardIterator;
  }
  assert.deepEqual(closedRecs.filter((x) => x.PartitionKey === "pk").slice(0, seqs.length).map((x) => x.SequenceNumber), seqs);
  assert.equal(last.ChildShards.length, 2, `ChildShards ${JSON.stringify(last.ChildShards)}`);
  for (const c of last.ChildShards) assert.deepEqual(c.ParentShards, [putShard]);
  const closedDesc = (await r.send("DescribeStream", { StreamName: name })).StreamDescription.Shards.find((x) => x.ShardId === putShard);
  assert.ok(closedDesc.SequenceNumberRange.EndingSequenceNumber, "a closed shard has an EndingSequenceNumber");
  const openShards = async () => (await r.send("ListShards", { StreamName: name, ShardFilter: { Type: "AT_LATEST" } })).Shards
    .sort((a, b) => (BigInt(a.HashKeyRange.StartingHashKey) < BigInt(b.HashKeyRange.StartingHashKey) ? -1 : 1));
  let open = await openShards();
  const lo = open[0];
  const mid = (BigInt(lo.HashKeyRange.StartingHashKey) + BigInt(lo.HashKeyRange.EndingHashKey) + 1n) / 2n;
  await r.send("SplitShard", { StreamName: name, ShardToSplit: lo.ShardId, NewStartingHashKey: mid.toString() });
  await waitActive();
  await r.fails("ResourceInUseException", "SplitShard", { StreamName: name, ShardToSplit: lo.ShardId, NewStartingHashKey: mid.toString() });
  open = await openShards();
  assert.equal(open.length, 5);
  assert.equal(open[1].HashKeyRange.StartingHashKey, mid.toString());
  await r.send("MergeShards", { StreamARN: arn, ShardToMerge: open[0].ShardId, AdjacentShardToMerge: open[1].ShardId });
  await waitActive();
  await r.fails("InvalidArgumentException", "MergeShards", { StreamName: name, ShardToMerge: open[2].ShardId, AdjacentShardToMerge: open[4].ShardId });
  const merged = (await openShards())[0];
  assert.equal(merged.ParentShardId, open[0].ShardId);
  assert.equal(merged.AdjacentParentShardId, open[1].ShardId);
  assert.equal(merged.HashKeyRange.StartingHashKey, lo.HashKeyRange.StartingHashKey);

  // --- stream consumers (issue 13's registry) -----------------------------
  const reg = (await r.send("RegisterStreamConsumer", { StreamARN: arn, ConsumerName: "c" })).Consumer;
  assert.equal(reg.ConsumerName, "c");
  const desc = (await r.send("DescribeStreamConsumer", { ConsumerARN: reg.ConsumerARN })).ConsumerDescription;
  assert.equal(desc.StreamARN, arn);
  const listed = (await r.send("ListStreamConsumers", { StreamARN: arn })).Consumers;
  assert.deepEqual(listed.map((x) => x.ConsumerARN), [reg.ConsumerARN]);
  await r.fails("ResourceInUseException", "RegisterStreamConsumer", { StreamARN: arn, ConsumerName: "c" });
  await r.send("DeregisterStreamConsumer", { StreamARN: arn, ConsumerName: "c" });

  // --- SubscribeToShard: the SDK's own event-stream reader, over HTTP/2 ----
  // Records put before the subscription and after it.
  const fanout = prefix + "-fanout";
  await r.send("CreateStream", { StreamName: fanout, ShardCount: 1 });
  const fanArn = (await waitActive(fanout)).StreamARN;
  const efo = (await r.send("RegisterStreamConsumer", { StreamARN: fanArn, ConsumerName: "efo" })).Consumer.ConsumerARN;
  await waitFor("consumer ACTIVE", async () =>
    (await r.send("DescribeStreamConsumer", { ConsumerARN: efo })).ConsumerDescription.ConsumerStatus === "ACTIVE");
  await r.send("PutRecord", { StreamName: fanout, PartitionKey: "pk", Data: Buffer.from("before") });
  const sub = await r.send("SubscribeToShard",
    { ConsumerARN: efo, ShardId: "shardId-000000000000", StartingPosition: { Type: "TRIM_HORIZON" } });
  const pushed = [];
  let continuation;
  for await (const ev of sub.EventStream) {
    const e = ev.SubscribeToShardEvent;
    assert.ok(e, `SubscribeToShard: event ${JSON.stringify(Object.keys(ev))}`);
    const before = pushed.length;
    for (const rec of e.Records) pushed.push(Buffer.from(rec.Data).toString());
    continuation = e.ContinuationSequenceNumber;
    if (before === 0 && pushed.length === 1) {
      await r.send("PutRecord", { StreamName: fanout, PartitionKey: "pk", Data: Buffer.from("after") });
    }
    if (pushed.length >= 2) break;
  }
  assert.deepEqual(pushed, ["before", "after"]);
  assert.ok(continuation, "SubscribeToShard: no ContinuationSequenceNumber");
  await r.fails("ResourceNotFoundException", "SubscribeToShard",
    { ConsumerARN: fanArn + "/consumer/nope:1", ShardId: "shardId-000000000000", StartingPosition: { Type: "LATEST" } });
  await r.send("DeregisterStreamConsumer", { ConsumerARN: efo });
  await r.send("DeleteStream", { StreamName: fanout, EnforceConsumerDeletion: true });

  // --- newer than the model ----------------------------------------------
  for (const action of NEWER_THAN_MODEL) {
    if (r.mod[action + "Command"]) await r.refused(action, { StreamARN: arn }, "newer than Spate's API model");
  }

  // --- delete -------------------------------------------------------------
  for (const stream of [name, other]) await r.send("DeleteStream", { StreamName: stream });
  for (const stream of [name, other]) await waitGone(stream, async () => (await summary(stream)).StreamStatus);
  await r.fails("ResourceNotFoundException", "DeleteStream", { StreamName: name });

  r.finish();
}

main(run);
