"""Drives Spate's Firehose API with boto3 over all 12 actions (see
spatecheck.py for the contract with boto3_test.go).

Usage: /usr/bin/python3 firehose_boto3.py ENDPOINT NAME_PREFIX BUCKET

Besides the actions, the report says what the Go test must find in S3:
"s3": {PREFIX: N} means the objects under PREFIX hold exactly the N lines
{"n": 0, "pad": "..."} to {"n": N-1, ...}, the pad as long as "pad_len".
"""

import json

from spatecheck import (Report, client, eq, expect_error, main, wait_for,
                        wait_gone)

ROLE = "arn:aws:iam::000000000000:role/firehose"
# Five such lines, and not four, fill the 1 MiB buffer: the last put
# triggers one delivery of all five by size.
PAD_LEN = 220 * 1000


def run(endpoint, prefix, bucket):
    c = client("firehose", endpoint)
    r = Report(c)
    a, b = prefix + "-a", prefix + "-b"

    def describe(name):
        r.ok("DescribeDeliveryStream")
        return c.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]

    def wait(name, probe):
        return wait_for(name, lambda: (lambda d: d if probe(d) else None)(describe(name)))

    def s3(prefix):
        # boto3 1.26 holds IntervalInSeconds to at least 60, so delivery is
        # triggered by size: 1 MB.
        return {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::" + bucket, "Prefix": prefix,
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60}}

    # --- create, describe, list -----------------------------------------
    for name, dest in ((a, "boto3/"), (b, "boto3-b/")):
        out = c.create_delivery_stream(DeliveryStreamName=name, DeliveryStreamType="DirectPut",
                                       ExtendedS3DestinationConfiguration=s3(dest),
                                       Tags=[{"Key": "team", "Value": "data"}])
        r.ok("CreateDeliveryStream")
        if not out["DeliveryStreamARN"].endswith(":deliverystream/" + name):
            raise AssertionError("DeliveryStreamARN %r" % out["DeliveryStreamARN"])
    expect_error("ResourceInUseException", c.create_delivery_stream, DeliveryStreamName=a,
                 ExtendedS3DestinationConfiguration=s3("x/"))
    expect_error("InvalidArgumentException", c.create_delivery_stream, DeliveryStreamName=prefix + "-bad",
                 ExtendedS3DestinationConfiguration=dict(s3("x/"), BucketARN="not-an-arn"))

    d = wait(a, lambda d: d["DeliveryStreamStatus"] == "ACTIVE")
    eq("DeliveryStreamType", d["DeliveryStreamType"], "DirectPut")
    eq("HasMoreDestinations", d["HasMoreDestinations"], False)
    ext = d["Destinations"][0]["ExtendedS3DestinationDescription"]
    eq("Prefix", ext["Prefix"], "boto3/")
    eq("BucketARN", ext["BucketARN"], "arn:aws:s3:::" + bucket)
    eq("BufferingHints", ext["BufferingHints"], {"SizeInMBs": 1, "IntervalInSeconds": 60})
    wait(b, lambda d: d["DeliveryStreamStatus"] == "ACTIVE")
    expect_error("ResourceNotFoundException", c.describe_delivery_stream, DeliveryStreamName=prefix + "-missing")

    names = c.list_delivery_streams(DeliveryStreamType="DirectPut")["DeliveryStreamNames"]
    r.ok("ListDeliveryStreams")
    eq("ListDeliveryStreams", sorted(n for n in names if n.startswith(prefix)), [a, b])
    page = c.list_delivery_streams(Limit=1, ExclusiveStartDeliveryStreamName=a)
    eq("ListDeliveryStreams after a, limit 1", page["DeliveryStreamNames"][:1], [b])
    eq("no KinesisStreamAsSource streams", [n for n in c.list_delivery_streams(
        DeliveryStreamType="KinesisStreamAsSource")["DeliveryStreamNames"] if n.startswith(prefix)], [])

    # --- tags -----------------------------------------------------------
    c.tag_delivery_stream(DeliveryStreamName=a, Tags=[{"Key": "env", "Value": "test"}])
    r.ok("TagDeliveryStream")
    tags = c.list_tags_for_delivery_stream(DeliveryStreamName=a)
    r.ok("ListTagsForDeliveryStream")
    eq("tags", sorted((t["Key"], t["Value"]) for t in tags["Tags"]), [("env", "test"), ("team", "data")])
    eq("HasMoreTags", tags["HasMoreTags"], False)
    c.untag_delivery_stream(DeliveryStreamName=a, TagKeys=["team"])
    r.ok("UntagDeliveryStream")
    eq("tags after untag", c.list_tags_for_delivery_stream(DeliveryStreamName=a)["Tags"], [{"Key": "env", "Value": "test"}])

    # --- records --------------------------------------------------------
    def line(n):
        return (json.dumps({"n": n, "pad": "x" * PAD_LEN}) + "\n").encode()

    out = c.put_record(DeliveryStreamName=a, Record={"Data": line(0)})
    r.ok("PutRecord")
    ids = [out["RecordId"]]
    out = c.put_record_batch(DeliveryStreamName=a, Records=[{"Data": line(n)} for n in range(1, 5)])
    r.ok("PutRecordBatch")
    eq("FailedPutCount", out["FailedPutCount"], 0)
    eq("RequestResponses", len(out["RequestResponses"]), 4)
    ids += [x["RecordId"] for x in out["RequestResponses"]]
    if not all(ids) or len(set(ids)) != len(ids):
        raise AssertionError("RecordIds %r are not distinct and non-empty" % ids)
    r.fields["s3"] = {"boto3/": 5}
    r.fields["pad_len"] = PAD_LEN
    expect_error("ResourceNotFoundException", c.put_record, DeliveryStreamName=prefix + "-missing", Record={"Data": b"x"})

    # --- update, encryption, delete (on b) ------------------------------
    d = describe(b)
    version, dest_id = d["VersionId"], d["Destinations"][0]["DestinationId"]
    c.update_destination(DeliveryStreamName=b, CurrentDeliveryStreamVersionId=version, DestinationId=dest_id,
                         ExtendedS3DestinationUpdate={"Prefix": "boto3-b2/"})
    r.ok("UpdateDestination")
    d = describe(b)
    eq("Prefix after UpdateDestination", d["Destinations"][0]["ExtendedS3DestinationDescription"]["Prefix"], "boto3-b2/")
    eq("VersionId after UpdateDestination", int(d["VersionId"]), int(version) + 1)
    expect_error("ConcurrentModificationException", c.update_destination, DeliveryStreamName=b,
                 CurrentDeliveryStreamVersionId=version, DestinationId=dest_id,
                 ExtendedS3DestinationUpdate={"Prefix": "stale/"})

    c.start_delivery_stream_encryption(DeliveryStreamName=b,
                                       DeliveryStreamEncryptionConfigurationInput={"KeyType": "AWS_OWNED_CMK"})
    r.ok("StartDeliveryStreamEncryption")
    enc = wait(b, lambda d: d.get("DeliveryStreamEncryptionConfiguration", {}).get("Status") == "ENABLED")
    eq("KeyType", enc["DeliveryStreamEncryptionConfiguration"]["KeyType"], "AWS_OWNED_CMK")
    c.stop_delivery_stream_encryption(DeliveryStreamName=b)
    r.ok("StopDeliveryStreamEncryption")
    wait(b, lambda d: d.get("DeliveryStreamEncryptionConfiguration", {}).get("Status") == "DISABLED")

    c.delete_delivery_stream(DeliveryStreamName=b)
    r.ok("DeleteDeliveryStream")

    wait_gone(c, b, lambda: c.describe_delivery_stream(DeliveryStreamName=b)["DeliveryStreamDescription"]["DeliveryStreamStatus"])
    expect_error("ResourceNotFoundException", c.delete_delivery_stream, DeliveryStreamName=b)

    r.finish()


if __name__ == "__main__":
    main(run, "BUCKET")
