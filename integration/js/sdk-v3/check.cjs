// Shared helpers of the AWS SDK for JavaScript v3 compatibility scripts
// (kinesis.cjs, firehose.cjs), which integration/jsclients_test.go runs with
// node, NODE_PATH pointing at .tools/npm-clients/node_modules
// (scripts/npm-clients.sh installs them, as pinned in integration/js).
//
// Each script makes its client with DEFAULT settings: only endpoint, region
// and dummy credentials, as a user pointing the SDK at Spate would. It calls
// every action the client package exports a Command for, checks the answers,
// and prints one JSON report line on stdout:
//
//   {"client": "@aws-sdk/client-kinesis 3.1143.0",
//    "actions": {"CreateStream": "ok", "CreateChannel": "not yet: newer than Spate's API model", ...}}
//
// Any failed check throws, so the script exits non-zero naming it.
"use strict";

const assert = require("node:assert/strict");

// Generous bound for the server to change a status; it only stops a hung run.
const WAIT_MS = 60000;

// clientConfig is the whole configuration a script gives its client.
function clientConfig(endpoint) {
  return {
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  };
}

// commands lists the actions a client package exports a Command for.
function commands(mod) {
  return Object.keys(mod)
    .filter((k) => k.endsWith("Command") && k !== "Command" && k !== "$Command")
    .map((k) => k.slice(0, -"Command".length));
}

class Report {
  constructor(pkg, client) {
    this.pkg = pkg;
    this.mod = require(pkg);
    this.client = client;
    this.actions = {};
    this.fields = {}; // more members of the report
  }

  // send sends action's Command with input and marks the action called.
  async send(action, input) {
    const out = await this.client.send(new this.mod[action + "Command"](input));
    if (!(action in this.actions)) this.actions[action] = "ok";
    return out;
  }

  // fails sends action with input and asserts that it fails with code (see
  // expectError); returns the error.
  async fails(code, action, input) {
    return expectError(this.mod, code, action, () => this.client.send(new this.mod[action + "Command"](input)));
  }

  // refused asserts that Spate refuses action with
  // UnknownOperationException and reports it as not yet served, for why.
  async refused(action, input, why) {
    await this.fails("UnknownOperationException", action, input);
    this.actions[action] = "not yet: " + why;
  }

  // finish fails unless every action of the client was called, then prints
  // the report.
  finish() {
    const all = commands(this.mod);
    const missing = all.filter((a) => !(a in this.actions));
    assert.deepEqual(missing, [], "the client has actions this script never called");
    const extra = Object.keys(this.actions).filter((a) => !all.includes(a));
    assert.deepEqual(extra, [], "the script reports actions the client does not have");
    const version = require(this.pkg + "/package.json").version;
    console.log(JSON.stringify({ ...this.fields, client: `${this.pkg} ${version}`, actions: this.actions }));
    this.client.destroy();
  }
}

// expectError runs call and asserts that it throws the service error code:
// an instance of the package's own class for it where the package has one
// (what user code tests with instanceof), with a message and an HTTP error
// status in its metadata.
async function expectError(mod, code, what, call) {
  let out;
  try {
    out = await call();
  } catch (e) {
    assert.equal(e.name, code, `${what}: got ${e.name} (${e.message}), want ${code}`);
    if (typeof mod[code] === "function") {
      assert.ok(e instanceof mod[code], `${what}: ${code} is not an instance of the package's ${code}`);
    }
    assert.ok(e.message && e.message !== "UnknownError", `${what}: ${code} has no message`);
    const status = e.$metadata && e.$metadata.httpStatusCode;
    assert.ok(status >= 400, `${what}: ${code} came with HTTP status ${status}`);
    return e;
  }
  assert.fail(`${what}: succeeded with ${JSON.stringify(out)}, want ${code}`);
}

// waitFor calls probe until it returns a true value, which it returns.
async function waitFor(what, probe) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const got = await probe();
    if (got) return got;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// waitGone waits until status() (the status of something deleted) throws
// ResourceNotFoundException; until then it must be DELETING.
async function waitGone(what, status) {
  await waitFor(what + " gone", async () => {
    try {
      assert.equal(await status(), "DELETING", `status of deleted ${what}`);
      return false;
    } catch (e) {
      if (e.name === "ResourceNotFoundException") return true;
      throw e;
    }
  });
}

// main runs run(endpoint, name, ...more) with the arguments the Go test
// passes: the server's endpoint, a name prefix for what the script creates,
// and the arguments named by more. A failure exits non-zero.
function main(run, ...more) {
  const args = process.argv.slice(2);
  if (args.length !== 2 + more.length) {
    console.error(`usage: node ${process.argv[1]} ENDPOINT NAME ${more.join(" ")}`);
    process.exit(2);
  }
  run(...args).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

module.exports = { Report, assert, clientConfig, expectError, main, waitFor, waitGone };
