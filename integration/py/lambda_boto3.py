"""Drives Spate's Lambda API with boto3 over the function actions Spate
serves (see spatecheck.py for the contract with boto3_test.go). The other
actions of the client's model are reported "not served"; the Go test
checks that exactly the served ones are "ok".

Usage: /usr/bin/python3 lambda_boto3.py ENDPOINT NAME_PREFIX
"""

import io
import zipfile

from spatecheck import Report, client, eq, expect_error, main, wait_for

ROLE = "arn:aws:iam::000000000000:role/spate-test"


def code(version):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, "#!/bin/sh\necho %s\n" % version)
    return buf.getvalue()


class LambdaReport(Report):
    def finish(self):
        for op in self.c.meta.service_model.operation_names:
            self.actions.setdefault(op, "not served")
        Report.finish(self)


def run(endpoint, prefix):
    c = client("lambda", endpoint)
    r = LambdaReport(c)
    name = prefix[:40] + "-fn"
    f = c.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="bootstrap",
                          Code={"ZipFile": code("v1")}, Tags={"team": "streams"},
                          Environment={"Variables": {"GREETING": "hi"}})
    r.ok("CreateFunction")
    eq("State", f["State"], "Active")
    arn = f["FunctionArn"]
    eq("FunctionArn", arn, "arn:aws:lambda:us-east-1:000000000000:function:" + name)
    expect_error("ResourceConflictException", c.create_function, FunctionName=name, Runtime="provided.al2023",
                 Role=ROLE, Code={"ZipFile": code("v1")})
    expect_error("InvalidParameterValueException", c.create_function, FunctionName=name + "-py",
                 Runtime="python3.9", Role=ROLE, Code={"ZipFile": code("v1")})

    g = c.get_function(FunctionName=arn)
    r.ok("GetFunction")
    eq("Tags", g["Tags"], {"team": "streams"})
    expect_error("ResourceNotFoundException", c.get_function, FunctionName=name + "-none")
    eq("Version", c.get_function_configuration(FunctionName=name)["Version"], "$LATEST")
    r.ok("GetFunctionConfiguration")
    names = [x["FunctionName"] for x in c.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1})
             .build_full_result()["Functions"]]
    eq("listed", names, [name])
    r.ok("ListFunctions")

    u = c.update_function_configuration(FunctionName=name, Timeout=20, RevisionId=f["RevisionId"])
    r.ok("UpdateFunctionConfiguration")
    eq("Timeout", u["Timeout"], 20)
    expect_error("PreconditionFailedException", c.update_function_code, FunctionName=name,
                 ZipFile=code("v2"), RevisionId=f["RevisionId"])
    v2 = c.update_function_code(FunctionName=name, ZipFile=code("v2"))
    r.ok("UpdateFunctionCode")
    if v2["CodeSha256"] == f["CodeSha256"]:
        raise AssertionError("CodeSha256 unchanged by update_function_code")

    eq("reserved", c.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=4)
       ["ReservedConcurrentExecutions"], 4)
    r.ok("PutFunctionConcurrency")
    eq("reserved", c.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"], 4)
    r.ok("GetFunctionConcurrency")
    c.delete_function_concurrency(FunctionName=name)
    r.ok("DeleteFunctionConcurrency")
    eq("reserved after delete", c.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions"), None)

    c.tag_resource(Resource=arn, Tags={"env": "dev"})
    r.ok("TagResource")
    c.untag_resource(Resource=arn, TagKeys=["team"])
    r.ok("UntagResource")
    eq("tags", c.list_tags(Resource=arn)["Tags"], {"env": "dev"})
    r.ok("ListTags")
    eq("functions", c.get_account_settings()["AccountUsage"]["FunctionCount"], 1)
    r.ok("GetAccountSettings")

    eq("dry run", c.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"], 204)
    expect_error("ResourceNotFoundException", c.invoke, FunctionName=name + "-none", Payload=b"{}")
    r.ok("Invoke")
    expect_error("InvalidRequestContentException", c.invoke_async, FunctionName=name, InvokeArgs=b"not json")
    r.ok("InvokeAsync")

    mappings(r, c, endpoint, prefix, name, arn)

    c.delete_function(FunctionName=name)
    r.ok("DeleteFunction")
    expect_error("ResourceNotFoundException", c.delete_function, FunctionName=name)
    r.finish()


def stream(k, name):
    """Creates a one-shard stream and returns its ARN once it is ACTIVE."""
    k.create_stream(StreamName=name, ShardCount=1)
    return wait_for(name + " ACTIVE", lambda: (lambda d: d["StreamARN"] if d["StreamStatus"] == "ACTIVE" else None)(
        k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]))


def mapping_state(c, uuid, want):
    """Waits until the mapping's State is want and returns the mapping."""
    return wait_for("mapping " + want, lambda: (lambda m: m if m["State"] == want else None)(
        c.get_event_source_mapping(UUID=uuid)))


def mappings(r, c, endpoint, prefix, name, fn_arn):
    """Drives the event source mapping actions (and their tags) over two
    streams mapped to the function name."""
    k = client("kinesis", endpoint)
    src1, src2 = stream(k, prefix[:40] + "-src1"), stream(k, prefix[:40] + "-src2")
    m = c.create_event_source_mapping(EventSourceArn=src1, FunctionName=name, StartingPosition="TRIM_HORIZON",
                                      BatchSize=50)
    r.ok("CreateEventSourceMapping")
    uuid = m["UUID"]
    eq("State", m["State"], "Creating")
    eq("BatchSize", m["BatchSize"], 50)
    eq("FunctionArn", m["FunctionArn"], fn_arn)
    eq("EventSourceArn", m["EventSourceArn"], src1)
    eq("StartingPosition", m["StartingPosition"], "TRIM_HORIZON")
    expect_error("ResourceConflictException", c.create_event_source_mapping, EventSourceArn=src1,
                 FunctionName=name, StartingPosition="LATEST")
    expect_error("InvalidParameterValueException", c.create_event_source_mapping, EventSourceArn=src2,
                 FunctionName=name, StartingPosition="LATEST", BatchSize=10001)
    m2 = c.create_event_source_mapping(EventSourceArn=src2, FunctionName=fn_arn, StartingPosition="LATEST",
                                       Enabled=False)
    eq("BatchSize default", m2["BatchSize"], 100)

    got = mapping_state(c, uuid, "Enabled")
    r.ok("GetEventSourceMapping")
    eq("UUID", got["UUID"], uuid)
    eq("ParallelizationFactor", got["ParallelizationFactor"], 1)
    eq("disabled", mapping_state(c, m2["UUID"], "Disabled")["UUID"], m2["UUID"])
    expect_error("ResourceNotFoundException", c.get_event_source_mapping, UUID="00000000-0000-4000-8000-000000000000")

    u = c.update_event_source_mapping(UUID=uuid, BatchSize=10)
    r.ok("UpdateEventSourceMapping")
    eq("BatchSize", u["BatchSize"], 10)
    eq("State", u["State"], "Updating")
    eq("BatchSize after update", mapping_state(c, uuid, "Enabled")["BatchSize"], 10)
    expect_error("InvalidParameterValueException", c.update_event_source_mapping, UUID=uuid, BatchSize=10001)

    pages = list(c.get_paginator("list_event_source_mappings").paginate(FunctionName=name,
                                                                        PaginationConfig={"PageSize": 1}))
    eq("pages", len([p for p in pages if p["EventSourceMappings"]]), 2)
    eq("listed", sorted(x["UUID"] for p in pages for x in p["EventSourceMappings"]), sorted([uuid, m2["UUID"]]))
    by_source = c.list_event_source_mappings(EventSourceArn=src2)["EventSourceMappings"]
    eq("listed by source", [x["UUID"] for x in by_source], [m2["UUID"]])
    r.ok("ListEventSourceMappings")

    for x in (m, m2):
        eq("State", c.delete_event_source_mapping(UUID=x["UUID"])["State"], "Deleting")
        wait_for("mapping gone", lambda: gone(c, x["UUID"]))
    r.ok("DeleteEventSourceMapping")
    expect_error("ResourceNotFoundException", c.delete_event_source_mapping, UUID=uuid)


def gone(c, uuid):
    try:
        c.get_event_source_mapping(UUID=uuid)
    except c.exceptions.ResourceNotFoundException:
        return True
    return False


if __name__ == "__main__":
    main(run)
