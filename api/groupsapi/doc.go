// Package groupsapi serves Spate's consumer groups (package groups) over
// HTTP in the AWS JSON 1.1 protocol of the Kinesis API: POST / with
// X-Amz-Target "SpateGroups_20261207.<Action>", JSON or CBOR, SigV4 as for
// Kinesis (IAM actions "kinesis:<Action>" on the stream), so the port and
// the credentials of the Kinesis API serve groups too (awsproto.Router).
//
// The actions mirror the gRPC GroupService one for one: JoinGroup,
// Heartbeat, AcquireLease, ReleaseLease, Checkpoint, LeaveGroup,
// DescribeGroup, ListGroups, ResetGroup, DeleteGroup; members are the
// proto fields in AWS case (StreamName, GroupName, WorkerId, ...), and a
// GroupRef's fields sit at the top level of a request. The service model
// (model/spategroups-2026-12-07.json, written for this API in botocore's
// format) is the contract the requests are validated against.
//
// It owns the wire format only; every action is one call on a
// *groups.Service.
package groupsapi
