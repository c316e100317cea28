// Package s3store is the aws backend's blob store: an adapter from
// shard.Store to Amazon S3 (aws-sdk-go-v2 service/s3). Leases are
// conditional creates (If-None-Match: *, where 412 means taken), lists are
// ListObjectsV2 pages, and the SDK's retryer backs off on 503 SlowDown,
// 5xx, throttling and network errors with a longer maximum backoff than
// its default. It counts the requests it makes (Ops) for the cost model.
//
// It imports the AWS SDK, orchestrator/shard, orchestrator/internal/awsretry
// (the retryer and attempt counter the AWS adapters share) and the
// standard library: not the orchestrator, the plan or the report (a
// generator's bootstrap uses it). Only adapters like this one, cmd/ and
// infra/ may import the AWS SDK.
package s3store
