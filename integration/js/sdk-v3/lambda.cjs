// Drives Spate's Lambda API with @aws-sdk/client-lambda, default settings,
// over the function actions Spate serves (see check.cjs for the contract
// with jsclients_test.go). The client's other actions are reported
// "not served"; the Go test checks that exactly the served ones are "ok".
//
// Usage: node lambda.cjs ENDPOINT NAME_PREFIX
"use strict";

const zlib = require("node:zlib");
const { LambdaClient, paginateListEventSourceMappings } = require("@aws-sdk/client-lambda");
const { KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand } = require("@aws-sdk/client-kinesis");
const { Report, assert, clientConfig, main, waitFor } = require("./check.cjs");

const ROLE = "arn:aws:iam::000000000000:role/spate-test";

// zip builds a one-file zip (stored, no compression) of an executable
// bootstrap.
function zip(body) {
  const name = Buffer.from("bootstrap");
  const data = Buffer.from(body);
  const crc = zlib.crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(0x031e, 4); // made by Unix, so the mode below counts
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(name.length, 28);
  central.writeUInt32LE((0o100755 << 16) >>> 0, 38);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(local.length + name.length + data.length, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

async function run(endpoint, prefix) {
  const r = new Report("@aws-sdk/client-lambda", new LambdaClient(clientConfig(endpoint)));
  const name = prefix.slice(0, 40) + "-fn";
  const f = await r.send("CreateFunction", {
    FunctionName: name, Runtime: "provided.al2023", Role: ROLE, Handler: "bootstrap",
    Code: { ZipFile: zip("#!/bin/sh\necho v1\n") }, Tags: { team: "streams" },
    Environment: { Variables: { GREETING: "hi" } },
  });
  assert.equal(f.State, "Active");
  const arn = f.FunctionArn;
  assert.equal(arn, "arn:aws:lambda:us-east-1:000000000000:function:" + name);
  await r.fails("ResourceConflictException", "CreateFunction", {
    FunctionName: name, Runtime: "provided.al2023", Role: ROLE, Code: { ZipFile: zip("x") },
  });
  await r.fails("InvalidParameterValueException", "CreateFunction", {
    FunctionName: name + "-js", Runtime: "nodejs20.x", Role: ROLE, Code: { ZipFile: zip("x") },
  });

  const g = await r.send("GetFunction", { FunctionName: arn });
  assert.deepEqual(g.Tags, { team: "streams" });
  await r.fails("ResourceNotFoundException", "GetFunction", { FunctionName: name + "-none" });
  assert.equal((await r.send("GetFunctionConfiguration", { FunctionName: name })).Version, "$LATEST");
  const list = await r.send("ListFunctions", { MaxItems: 10 });
  assert.deepEqual(list.Functions.map((x) => x.FunctionName), [name]);

  const u = await r.send("UpdateFunctionConfiguration", { FunctionName: name, Timeout: 20, RevisionId: f.RevisionId });
  assert.equal(u.Timeout, 20);
  await r.fails("PreconditionFailedException", "UpdateFunctionCode", {
    FunctionName: name, ZipFile: zip("v2"), RevisionId: f.RevisionId,
  });
  const v2 = await r.send("UpdateFunctionCode", { FunctionName: name, ZipFile: zip("#!/bin/sh\necho v2\n") });
  assert.notEqual(v2.CodeSha256, f.CodeSha256);

  assert.equal((await r.send("PutFunctionConcurrency", { FunctionName: name, ReservedConcurrentExecutions: 4 }))
    .ReservedConcurrentExecutions, 4);
  assert.equal((await r.send("GetFunctionConcurrency", { FunctionName: name })).ReservedConcurrentExecutions, 4);
  await r.send("DeleteFunctionConcurrency", { FunctionName: name });

  await r.send("TagResource", { Resource: arn, Tags: { env: "dev" } });
  await r.send("UntagResource", { Resource: arn, TagKeys: ["team"] });
  assert.deepEqual((await r.send("ListTags", { Resource: arn })).Tags, { env: "dev" });
  assert.equal((await r.send("GetAccountSettings", {})).AccountUsage.FunctionCount, 1);

  assert.equal((await r.send("Invoke", { FunctionName: name, InvocationType: "DryRun" })).StatusCode, 204);
  await r.fails("ResourceNotFoundException", "Invoke", { FunctionName: name + "-none", Payload: Buffer.from("{}") });
  await r.fails("InvalidRequestContentException", "InvokeAsync", { FunctionName: name, InvokeArgs: Buffer.from("not json") });
  r.actions.InvokeAsync = "ok";

  await mappings(r, endpoint, prefix, name, arn);

  await r.send("DeleteFunction", { FunctionName: name });
  await r.fails("ResourceNotFoundException", "DeleteFunction", { FunctionName: name });

  for (const k of Object.keys(r.mod)) {
    const action = k.slice(0, -"Command".length);
    if (k.endsWith("Command") && k !== "Command" && k !== "$Command" && !(action in r.actions)) {
      r.actions[action] = "not served";
    }
  }
  r.finish();
}

// stream creates a one-shard stream and returns its ARN once it is ACTIVE.
async function stream(k, name) {
  await k.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  return waitFor(name + " ACTIVE", async () => {
    const d = (await k.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary;
    return d.StreamStatus === "ACTIVE" && d.StreamARN;
  });
}

// mappingState waits until the mapping's State is want and returns it.
async function mappingState(r, uuid, want) {
  return waitFor("mapping " + want, async () => {
    const m = await r.send("GetEventSourceMapping", { UUID: uuid });
    return m.State === want && m;
  });
}

// mappings drives the event source mapping actions (and their tags) over
// two streams mapped to the function name.
async function mappings(r, endpoint, prefix, name, fnArn) {
  const k = new KinesisClient(clientConfig(endpoint));
  const src1 = await stream(k, prefix.slice(0, 40) + "-src1");
  const src2 = await stream(k, prefix.slice(0, 40) + "-src2");
  k.destroy();
  const m = await r.send("CreateEventSourceMapping", {
    EventSourceArn: src1, FunctionName: name, StartingPosition: "TRIM_HORIZON", BatchSize: 50,
    Tags: { team: "streams" },
  });
  const uuid = m.UUID;
  assert.equal(m.State, "Creating");
  assert.equal(m.BatchSize, 50);
  assert.equal(m.FunctionArn, fnArn);
  assert.equal(m.EventSourceArn, src1);
  assert.equal(m.StartingPosition, "TRIM_HORIZON");
  assert.equal(m.EventSourceMappingArn, "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:" + uuid);
  const tagsOf = async () => (await r.send("ListTags", { Resource: m.EventSourceMappingArn })).Tags;
  assert.deepEqual(await tagsOf(), { team: "streams" });
  await r.send("TagResource", { Resource: m.EventSourceMappingArn, Tags: { env: "dev" } });
  await r.send("UntagResource", { Resource: m.EventSourceMappingArn, TagKeys: ["team"] });
  assert.deepEqual(await tagsOf(), { env: "dev" });
  await r.fails("ResourceConflictException", "CreateEventSourceMapping", {
    EventSourceArn: src1, FunctionName: name, StartingPosition: "LATEST",
  });
  await r.fails("InvalidParameterValueException", "CreateEventSourceMapping", {
    EventSourceArn: src2, FunctionName: name, StartingPosition: "LATEST", BatchSize: 0,
  });
  const m2 = await r.send("CreateEventSourceMapping", {
    EventSourceArn: src2, FunctionName: fnArn, StartingPosition: "LATEST", Enabled: false,
  });
  assert.equal(m2.BatchSize, 100);

  const got = await mappingState(r, uuid, "Enabled");
  assert.equal(got.UUID, uuid);
  assert.equal(got.ParallelizationFactor, 1);
  await mappingState(r, m2.UUID, "Disabled");
  await r.fails("ResourceNotFoundException", "GetEventSourceMapping", { UUID: "00000000-0000-4000-8000-000000000000" });

  const u = await r.send("UpdateEventSourceMapping", { UUID: uuid, BatchSize: 10 });
  assert.equal(u.BatchSize, 10);
  assert.equal(u.State, "Updating");
  assert.equal((await mappingState(r, uuid, "Enabled")).BatchSize, 10);
  await r.fails("InvalidParameterValueException", "UpdateEventSourceMapping", { UUID: uuid, BatchSize: 10001 });

  const listed = [];
  let pages = 0;
  for await (const page of paginateListEventSourceMappings({ client: r.client, pageSize: 1 }, { FunctionName: name })) {
    if (page.EventSourceMappings.length > 0) pages++;
    listed.push(...page.EventSourceMappings.map((x) => x.UUID));
  }
  r.actions.ListEventSourceMappings = "ok";
  assert.equal(pages, 2);
  assert.deepEqual(listed.sort(), [uuid, m2.UUID].sort());
  const bySource = await r.send("ListEventSourceMappings", { EventSourceArn: src2 });
  assert.deepEqual(bySource.EventSourceMappings.map((x) => x.UUID), [m2.UUID]);

  for (const x of [m, m2]) {
    assert.equal((await r.send("DeleteEventSourceMapping", { UUID: x.UUID })).State, "Deleting");
    await waitFor("mapping gone", async () => {
      try {
        await r.client.send(new r.mod.GetEventSourceMappingCommand({ UUID: x.UUID }));
        return false;
      } catch (e) {
        if (e instanceof r.mod.ResourceNotFoundException) return true;
        throw e;
      }
    });
  }
  await r.fails("ResourceNotFoundException", "GetEventSourceMapping", { UUID: uuid });
  await r.fails("ResourceNotFoundException", "DeleteEventSourceMapping", { UUID: uuid });
  await r.fails("ResourceNotFoundException", "ListTags", { Resource: m.EventSourceMappingArn });
}

main(run);
