"""Shared helpers of the boto3 compatibility scripts (kinesis_boto3.py,
firehose_boto3.py), which integration/boto3_test.go runs with Debian's
/usr/bin/python3 and python3-boto3.

Each script makes its client with DEFAULT settings: only endpoint_url,
region_name and dummy credentials, as a user pointing boto3 at Spate would.
It calls every action the client's own service model has, checks the
answers, and prints one JSON report line on stdout:

    {"client": "boto3 1.26.27 botocore 1.29.27",
     "actions": {"CreateStream": "ok", "CreateChannel": "not yet: newer than Spate's API model", ...}}

Any failed check raises, so the script exits non-zero with a traceback that
names it.
"""

import json
import sys
import time

import boto3
import botocore
from botocore.exceptions import ClientError

# Generous bound for the server to change a status; it only stops a hung run.
WAIT_SECONDS = 60


def client(service, endpoint):
    """A boto3 client with default settings but for endpoint, region and
    dummy credentials."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


class Report:
    """Records what each action was checked for and prints the report."""

    def __init__(self, c):
        self.c = c
        self.actions = {}
        self.fields = {}  # more members of the report

    def ok(self, action):
        self.actions.setdefault(action, "ok")

    def not_yet(self, action, why):
        self.actions[action] = "not yet: " + why

    def finish(self):
        """Fails unless every action of the client's model was checked, then
        prints the report."""
        model = set(self.c.meta.service_model.operation_names)
        missing = sorted(model - set(self.actions))
        if missing:
            raise AssertionError("the client has actions this script never called: %s" % missing)
        extra = sorted(set(self.actions) - model)
        if extra:
            raise AssertionError("the script reports actions the client does not have: %s" % extra)
        print(json.dumps(dict(self.fields, **{
            "client": "boto3 %s botocore %s" % (boto3.__version__, botocore.__version__),
            "actions": self.actions,
        }), sort_keys=True))


def expect_error(code, fn, *args, **kwargs):
    """Calls fn and asserts that it raises botocore's ClientError with the
    error code code, of the client's class for it when fn is a client method,
    with a non-empty message and an HTTP error status; returns the error's
    response."""
    try:
        out = fn(*args, **kwargs)
    except ClientError as e:
        err = e.response.get("Error", {})
        if err.get("Code") != code:
            raise AssertionError("%s: got error %r, want %s" % (fn.__name__, err, code))
        if not err.get("Message"):
            raise AssertionError("%s: %s has an empty message" % (fn.__name__, code))
        # The modelled errors decode to the client's own exception class,
        # which is what user code catches (c.exceptions.ResourceNotFoundException).
        owner = getattr(fn, "__self__", None)
        typed = getattr(owner.exceptions, code, None) if owner is not None else None
        if typed is not None and not isinstance(e, typed):
            raise AssertionError("%s: %s decoded as %s, not as the client's %s" % (fn.__name__, code, type(e), typed))
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status is None or status < 400:
            raise AssertionError("%s: %s came with HTTP status %r" % (fn.__name__, code, status))
        return e.response
    raise AssertionError("%s: succeeded with %r, want %s" % (fn.__name__, out, code))


def eq(what, got, want):
    if got != want:
        raise AssertionError("%s = %r, want %r" % (what, got, want))


def wait_for(what, probe):
    """Calls probe until it returns a true value, which it returns."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.05)


def wait_gone(c, what, status):
    """Waits until status() (the status of something deleted) raises the
    client's ResourceNotFoundException; until then it must be DELETING."""
    def gone():
        try:
            st = status()
        except c.exceptions.ResourceNotFoundException:
            return True
        eq("status of deleted " + what, st, "DELETING")
        return False
    wait_for(what + " gone", gone)


def main(run, *more):
    """Runs run(endpoint, name, *more) with the arguments the Go test
    passes: the server's endpoint, a name prefix for what the script
    creates, and the arguments named by more."""
    if len(sys.argv) != 3 + len(more):
        sys.exit("usage: %s ENDPOINT NAME %s" % (sys.argv[0], " ".join(more)))
    run(*sys.argv[1:])
