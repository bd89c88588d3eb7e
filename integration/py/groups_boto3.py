"""Drives Spate's consumer-group API (SpateGroups_20261207) with boto3 over
every action, loading the service model api/groupsapi/model ships, as a
user of boto3 would (AWS_DATA_PATH; see spatecheck.py for the contract with
boto3_test.go).

Usage: AWS_DATA_PATH=DIR /usr/bin/python3 groups_boto3.py ENDPOINT NAME_PREFIX
where DIR/spategroups/2026-12-07/service-2.json is the model.
"""

from spatecheck import Report, client, eq, expect_error, main, wait_for


def run(endpoint, prefix):
    k = client("kinesis", endpoint)
    c = client("spategroups", endpoint)
    r = Report(c)
    stream, group = prefix + "-s", "g"
    k.create_stream(StreamName=stream, ShardCount=2)
    wait_for(stream, lambda: k.describe_stream_summary(StreamName=stream)
             ["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE")
    shard = k.put_record(StreamName=stream, PartitionKey="k", Data=b"one")
    sid, seq = shard["ShardId"], shard["SequenceNumber"]

    g = c.join_group(StreamName=stream, GroupName=group, WorkerId="w1", LeaseTimeoutMillis=30000)["Group"]
    r.ok("JoinGroup")
    eq("leases after JoinGroup", sorted(l["ShardId"] for l in g["Leases"]),
       sorted(s["ShardId"] for s in k.list_shards(StreamName=stream)["Shards"]))
    eq("lease timeout", g["LeaseTimeoutMillis"], 30000)

    lease = c.acquire_lease(StreamName=stream, GroupName=group, WorkerId="w1", ShardId=sid)["Lease"]
    r.ok("AcquireLease")
    eq("owner", lease["Owner"], "w1")
    counter = lease["LeaseCounter"]

    g = c.heartbeat(StreamName=stream, GroupName=group, WorkerId="w1")["Group"]
    r.ok("Heartbeat")
    eq("workers", [w["WorkerId"] for w in g["Workers"]], ["w1"])

    c.checkpoint(StreamName=stream, GroupName=group, WorkerId="w1", ShardId=sid,
                 LeaseCounter=counter, SequenceNumber=seq)
    r.ok("Checkpoint")
    # A stale lease counter is fenced off.
    expect_error("LeaseLostException", c.checkpoint, StreamName=stream, GroupName=group, WorkerId="w1",
                 ShardId=sid, LeaseCounter=counter + 1, SequenceNumber=seq)

    d = c.describe_group(StreamName=stream, GroupName=group)["Group"]
    r.ok("DescribeGroup")
    eq("checkpoint", [l.get("Checkpoint") for l in d["Leases"] if l["ShardId"] == sid], [seq])

    eq("groups", c.list_groups(StreamName=stream)["Groups"], [group])
    r.ok("ListGroups")

    c.release_lease(StreamName=stream, GroupName=group, WorkerId="w1", ShardId=sid, LeaseCounter=counter)
    r.ok("ReleaseLease")
    expect_error("ResourceInUseException", c.reset_group, StreamName=stream, GroupName=group,
                 Position="TRIM_HORIZON")
    c.leave_group(StreamName=stream, GroupName=group, WorkerId="w1")
    r.ok("LeaveGroup")

    g = c.reset_group(StreamName=stream, GroupName=group, Position="TRIM_HORIZON")["Group"]
    r.ok("ResetGroup")
    eq("checkpoints after reset", [l.get("Checkpoint", "") for l in g["Leases"]], ["", ""])

    c.delete_group(StreamName=stream, GroupName=group)
    r.ok("DeleteGroup")
    expect_error("ResourceNotFoundException", c.describe_group, StreamName=stream, GroupName=group)
    expect_error("ResourceNotFoundException", c.join_group, StreamName=prefix + "-none",
                 GroupName=group, WorkerId="w1")
    r.finish()


if __name__ == "__main__":
    main(run)
