"""Drives Spate's Kinesis API with boto3 over every action boto3's Kinesis
model has (see spatecheck.py for the contract with boto3_test.go).

Usage: /usr/bin/python3 kinesis_boto3.py ENDPOINT STREAM_NAME_PREFIX
"""

import datetime
import os

from spatecheck import (Report, client, eq, expect_error, main, wait_for,
                        wait_gone)

MAX_HASH_KEY = 2 ** 128 - 1


def run(endpoint, prefix):
    c = client("kinesis", endpoint)
    r = Report(c)
    name = prefix + "-main"

    def summary(stream=name):
        r.ok("DescribeStreamSummary")
        return c.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]

    def wait_active(stream=name):
        return wait_for(stream + " ACTIVE", lambda: (lambda s: s if s["StreamStatus"] == "ACTIVE" else None)(summary(stream)))

    # --- streams --------------------------------------------------------
    c.create_stream(StreamName=name, ShardCount=2)
    r.ok("CreateStream")
    s = wait_active()
    eq("OpenShardCount", s["OpenShardCount"], 2)
    eq("StreamModeDetails", s["StreamModeDetails"], {"StreamMode": "PROVISIONED"})
    eq("RetentionPeriodHours", s["RetentionPeriodHours"], 24)
    arn = s["StreamARN"]
    if not arn.startswith("arn:aws:kinesis:us-east-1:") or not arn.endswith(":stream/" + name):
        raise AssertionError("StreamARN %r" % arn)
    if not isinstance(s["StreamCreationTimestamp"], datetime.datetime):
        raise AssertionError("StreamCreationTimestamp %r is not a datetime" % s["StreamCreationTimestamp"])
    expect_error("ResourceInUseException", c.create_stream, StreamName=name, ShardCount=1)
    # botocore checks lengths, not patterns: the server must refuse this.
    expect_error("ValidationException", c.create_stream, StreamName="no spaces allowed", ShardCount=1)

    d = c.describe_stream(StreamName=name)["StreamDescription"]
    r.ok("DescribeStream")
    eq("DescribeStream StreamARN", d["StreamARN"], arn)
    eq("DescribeStream HasMoreShards", d["HasMoreShards"], False)
    shards = d["Shards"]
    eq("shard ids", [sh["ShardId"] for sh in shards], ["shardId-000000000000", "shardId-000000000001"])
    eq("first shard's start", shards[0]["HashKeyRange"]["StartingHashKey"], "0")
    eq("last shard's end", shards[1]["HashKeyRange"]["EndingHashKey"], str(MAX_HASH_KEY))
    eq("contiguous ranges", int(shards[1]["HashKeyRange"]["StartingHashKey"]),
       int(shards[0]["HashKeyRange"]["EndingHashKey"]) + 1)
    expect_error("ResourceNotFoundException", c.describe_stream, StreamName=prefix + "-missing")

    listed = c.list_shards(StreamName=name)["Shards"]
    r.ok("ListShards")
    eq("ListShards", [sh["ShardId"] for sh in listed], [sh["ShardId"] for sh in shards])
    page = c.list_shards(StreamName=name, MaxResults=1)
    eq("ListShards page 1", [sh["ShardId"] for sh in page["Shards"]], ["shardId-000000000000"])
    page = c.list_shards(NextToken=page["NextToken"], MaxResults=1)
    eq("ListShards page 2", [sh["ShardId"] for sh in page["Shards"]], ["shardId-000000000001"])

    other = prefix + "-other"
    c.create_stream(StreamName=other, ShardCount=1)
    wait_active(other)
    names = []
    for p in c.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 1}):
        names += p["StreamNames"]
    r.ok("ListStreams")
    if name not in names or other not in names:
        raise AssertionError("ListStreams paged by 1 = %r, want %s and %s in it" % (names, name, other))
    eq("ListStreams has no duplicates", len(names), len(set(names)))

    limits = c.describe_limits()
    r.ok("DescribeLimits")
    if limits["ShardLimit"] < 3 or limits["OpenShardCount"] < 3:
        raise AssertionError("DescribeLimits %r: the two streams have 3 open shards" % limits)

    # --- records --------------------------------------------------------
    # One partition key: one shard, strictly growing sequence numbers.
    payloads = [os.urandom(n) for n in (0, 1, 100, 1000)] + [b"\x00\xff" * 512]
    seqs = []
    put_shard = None
    for i, data in enumerate(payloads):
        kw = {"SequenceNumberForOrdering": seqs[-1]} if seqs else {}
        out = c.put_record(StreamName=name, PartitionKey="pk", Data=data, **kw)
        if put_shard is None:
            put_shard = out["ShardId"]
        eq("PutRecord ShardId", out["ShardId"], put_shard)
        seqs.append(out["SequenceNumber"])
    r.ok("PutRecord")
    eq("PutRecord sequence numbers grow", [int(x) for x in seqs], sorted(int(x) for x in set(seqs)))
    expect_error("ResourceNotFoundException", c.put_record, StreamName=prefix + "-missing", PartitionKey="k", Data=b"x")

    # ExplicitHashKey routes: 0 to the first shard, the largest to the last.
    entries = [{"Data": b"batch-%d" % i, "PartitionKey": "k%d" % i,
                "ExplicitHashKey": "0" if i % 2 == 0 else str(MAX_HASH_KEY)} for i in range(10)]
    out = c.put_records(StreamName=name, Records=entries)
    r.ok("PutRecords")
    eq("FailedRecordCount", out.get("FailedRecordCount", 0), 0)
    eq("PutRecords results", len(out["Records"]), len(entries))
    by_shard = {}
    for i, res in enumerate(out["Records"]):
        want = "shardId-000000000000" if i % 2 == 0 else "shardId-000000000001"
        eq("PutRecords entry %d shard" % i, res["ShardId"], want)
        by_shard.setdefault(want, []).append(int(res["SequenceNumber"]))
    for sid, got in by_shard.items():
        eq("PutRecords sequence numbers in %s grow" % sid, got, sorted(set(got)))
    # A bad entry fails the whole call with the documented error.
    expect_error("ValidationException", c.put_records, StreamName=name,
                 Records=[{"Data": b"x", "PartitionKey": "k", "ExplicitHashKey": "not a number"}])

    def read(it):
        """Reads from iterator it to the tip; returns the records."""
        recs = []
        while True:
            got = c.get_records(ShardIterator=it)
            recs += got["Records"]
            if not got["Records"] and got["MillisBehindLatest"] == 0:
                return recs
            it = got["NextShardIterator"]

    def iterator(shard, typ, **kw):
        return c.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType=typ, **kw)["ShardIterator"]

    recs = [x for x in read(iterator(put_shard, "TRIM_HORIZON")) if x["PartitionKey"] == "pk"]
    r.ok("GetShardIterator")
    r.ok("GetRecords")
    eq("GetRecords data round-trips", [x["Data"] for x in recs], payloads)
    eq("GetRecords sequence numbers", [x["SequenceNumber"] for x in recs], seqs)
    for x in recs:
        if not isinstance(x["ApproximateArrivalTimestamp"], datetime.datetime):
            raise AssertionError("ApproximateArrivalTimestamp %r" % x["ApproximateArrivalTimestamp"])
    all_seqs = [x["SequenceNumber"] for x in read(iterator(put_shard, "TRIM_HORIZON"))]
    at = [x["SequenceNumber"] for x in read(iterator(put_shard, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2]))]
    eq("AT_SEQUENCE_NUMBER", at, all_seqs[all_seqs.index(seqs[2]):])
    after = [x["SequenceNumber"] for x in read(iterator(put_shard, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2]))]
    eq("AFTER_SEQUENCE_NUMBER", after, all_seqs[all_seqs.index(seqs[2]) + 1:])
    eq("LATEST", read(iterator(put_shard, "LATEST")), [])
    first = recs[0]["ApproximateArrivalTimestamp"]
    since = read(iterator(put_shard, "AT_TIMESTAMP", Timestamp=first - datetime.timedelta(seconds=1)))
    eq("AT_TIMESTAMP before the first put", [x["SequenceNumber"] for x in since], all_seqs)
    expect_error("ResourceNotFoundException", c.get_shard_iterator, StreamName=name,
                 ShardId="shardId-000000000009", ShardIteratorType="TRIM_HORIZON")
    expect_error("InvalidArgumentException", c.get_records, ShardIterator="not-an-iterator")

    # --- tags -----------------------------------------------------------
    c.add_tags_to_stream(StreamName=name, Tags={"team": "data", "env": "test"})
    r.ok("AddTagsToStream")
    tags = c.list_tags_for_stream(StreamName=name)
    r.ok("ListTagsForStream")
    eq("ListTagsForStream", sorted((t["Key"], t["Value"]) for t in tags["Tags"]), [("env", "test"), ("team", "data")])
    eq("HasMoreTags", tags["HasMoreTags"], False)
    c.remove_tags_from_stream(StreamName=name, TagKeys=["env"])
    r.ok("RemoveTagsFromStream")
    eq("tags after RemoveTagsFromStream", c.list_tags_for_stream(StreamName=name)["Tags"], [{"Key": "team", "Value": "data"}])

    # --- retention, monitoring ------------------------------------------
    c.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
    r.ok("IncreaseStreamRetentionPeriod")
    eq("retention after increase", wait_active()["RetentionPeriodHours"], 48)
    expect_error("InvalidArgumentException", c.increase_stream_retention_period, StreamName=name, RetentionPeriodHours=24)
    c.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=24)
    r.ok("DecreaseStreamRetentionPeriod")
    eq("retention after decrease", wait_active()["RetentionPeriodHours"], 24)

    on = c.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["IncomingBytes", "OutgoingRecords"])
    r.ok("EnableEnhancedMonitoring")
    eq("desired metrics", sorted(on["DesiredShardLevelMetrics"]), ["IncomingBytes", "OutgoingRecords"])
    off = c.disable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["ALL"])
    r.ok("DisableEnhancedMonitoring")
    eq("desired metrics after ALL off", off.get("DesiredShardLevelMetrics", []), [])

    # --- encryption and mode --------------------------------------------
    c.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    r.ok("StartStreamEncryption")
    s = wait_active()
    eq("EncryptionType after StartStreamEncryption", s["EncryptionType"], "KMS")
    eq("KeyId", s["KeyId"], "alias/aws/kinesis")
    secret = b"encrypted at rest, plain to the reader"
    out = c.put_record(StreamName=name, PartitionKey="pk", Data=secret)
    eq("PutRecord EncryptionType while encrypted", out.get("EncryptionType"), "KMS")
    recs = read(iterator(put_shard, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=out["SequenceNumber"]))
    eq("record written while encrypted", [(x["Data"], x.get("EncryptionType")) for x in recs], [(secret, "KMS")])
    c.stop_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    r.ok("StopStreamEncryption")
    eq("EncryptionType after StopStreamEncryption", wait_active()["EncryptionType"], "NONE")

    c.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    r.ok("UpdateStreamMode")
    eq("mode after UpdateStreamMode", wait_active()["StreamModeDetails"], {"StreamMode": "ON_DEMAND"})
    c.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "PROVISIONED"})
    eq("mode back", wait_active()["StreamModeDetails"], {"StreamMode": "PROVISIONED"})

    # --- resharding (the stream is PROVISIONED again) -------------------
    scaled = c.update_shard_count(StreamName=name, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    r.ok("UpdateShardCount")
    eq("UpdateShardCount counts", (scaled["CurrentShardCount"], scaled["TargetShardCount"]), (2, 4))
    eq("open shards after UpdateShardCount", wait_active()["OpenShardCount"], 4)
    expect_error("LimitExceededException", c.update_shard_count, StreamName=name, TargetShardCount=9, ScalingType="UNIFORM_SCALING")
    # The shard the records went to is closed: read to its end, it answers
    # no NextShardIterator and names its children.
    it = iterator(put_shard, "TRIM_HORIZON")
    while True:
        got = c.get_records(ShardIterator=it)
        if "NextShardIterator" not in got:
            break
        it = got["NextShardIterator"]
    eq("children of the closed shard", sorted(x["ParentShards"] == [put_shard] for x in got["ChildShards"]), [True, True])

    def open_shards():
        got = c.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]
        return sorted(got, key=lambda x: int(x["HashKeyRange"]["StartingHashKey"]))

    lo = open_shards()[0]
    mid = (int(lo["HashKeyRange"]["StartingHashKey"]) + int(lo["HashKeyRange"]["EndingHashKey"]) + 1) // 2
    c.split_shard(StreamName=name, ShardToSplit=lo["ShardId"], NewStartingHashKey=str(mid))
    r.ok("SplitShard")
    wait_active()
    expect_error("ResourceInUseException", c.split_shard, StreamName=name, ShardToSplit=lo["ShardId"], NewStartingHashKey=str(mid))
    opened = open_shards()
    eq("open shards after SplitShard", len(opened), 5)
    c.merge_shards(StreamName=name, ShardToMerge=opened[0]["ShardId"], AdjacentShardToMerge=opened[1]["ShardId"])
    r.ok("MergeShards")
    wait_active()
    expect_error("InvalidArgumentException", c.merge_shards, StreamName=name,
                 ShardToMerge=opened[2]["ShardId"], AdjacentShardToMerge=opened[4]["ShardId"])
    merged = open_shards()[0]
    eq("merged shard's parents", (merged.get("ParentShardId"), merged.get("AdjacentParentShardId")),
       (opened[0]["ShardId"], opened[1]["ShardId"]))

    # --- stream consumers (issue 13's registry) -------------------------
    reg = c.register_stream_consumer(StreamARN=arn, ConsumerName="c")["Consumer"]
    r.ok("RegisterStreamConsumer")
    eq("consumer name", reg["ConsumerName"], "c")
    desc = c.describe_stream_consumer(ConsumerARN=reg["ConsumerARN"])["ConsumerDescription"]
    r.ok("DescribeStreamConsumer")
    eq("consumer's stream", desc["StreamARN"], arn)
    listed = c.list_stream_consumers(StreamARN=arn)["Consumers"]
    r.ok("ListStreamConsumers")
    eq("listed consumers", [x["ConsumerARN"] for x in listed], [reg["ConsumerARN"]])
    expect_error("ResourceInUseException", c.register_stream_consumer, StreamARN=arn, ConsumerName="c")

    # SubscribeToShard: botocore's EventStream over HTTP/1.1 (chunked),
    # records put before the subscription and after it.
    fanout = prefix + "-fanout"
    c.create_stream(StreamName=fanout, ShardCount=1)
    fan_arn = wait_active(fanout)["StreamARN"]
    sub = c.register_stream_consumer(StreamARN=fan_arn, ConsumerName="efo")["Consumer"]["ConsumerARN"]
    wait_for("consumer ACTIVE", lambda: c.describe_stream_consumer(ConsumerARN=sub)["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE")
    c.put_record(StreamName=fanout, PartitionKey="pk", Data=b"before")
    stream = c.subscribe_to_shard(ConsumerARN=sub, ShardId="shardId-000000000000",
                                  StartingPosition={"Type": "TRIM_HORIZON"})["EventStream"]
    got, last = [], None
    for event in stream:
        ev = event["SubscribeToShardEvent"]
        got += [x["Data"] for x in ev["Records"]]
        last = ev["ContinuationSequenceNumber"]
        if got == [b"before"]:
            c.put_record(StreamName=fanout, PartitionKey="pk", Data=b"after")
        if len(got) >= 2:
            break
    stream.close()
    eq("SubscribeToShard records", got, [b"before", b"after"])
    if not last:
        raise AssertionError("SubscribeToShard: no ContinuationSequenceNumber")
    expect_error("ResourceNotFoundException", c.subscribe_to_shard, ConsumerARN=fan_arn + "/consumer/nope:1",
                 ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"})
    r.ok("SubscribeToShard")
    c.deregister_stream_consumer(ConsumerARN=sub)
    c.delete_stream(StreamName=fanout, EnforceConsumerDeletion=True)

    c.deregister_stream_consumer(StreamARN=arn, ConsumerName="c")
    r.ok("DeregisterStreamConsumer")

    # --- the actions newer than this boto3 ------------------------------
    # (tags by ARN, resource policies, account settings, ...): checked
    # by name only if this boto3 has them; an older one lacks them.

    # --- delete ---------------------------------------------------------
    for stream in (name, other):
        c.delete_stream(StreamName=stream)
    r.ok("DeleteStream")
    for stream in (name, other):
        wait_gone(c, stream, lambda stream=stream: c.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"])
    expect_error("ResourceNotFoundException", c.delete_stream, StreamName=name)

    r.finish()


if __name__ == "__main__":
    main(run)
