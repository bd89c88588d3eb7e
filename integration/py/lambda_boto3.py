"""Drives Spate's Lambda API with boto3 over the function actions Spate
serves (see spatecheck.py for the contract with boto3_test.go). The other
actions of the client's model are reported "not served"; the Go test
checks that exactly the served ones are "ok".

Usage: /usr/bin/python3 lambda_boto3.py ENDPOINT NAME_PREFIX
"""

import io
import zipfile

from spatecheck import Report, client, eq, expect_error, main

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

    c.delete_function(FunctionName=name)
    r.ok("DeleteFunction")
    expect_error("ResourceNotFoundException", c.delete_function, FunctionName=name)
    r.finish()


if __name__ == "__main__":
    main(run)
