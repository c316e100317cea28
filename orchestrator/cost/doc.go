// Package cost prices a stampede run on AWS: an estimate before the run
// (Estimate), a live guard while it goes (NewGuard, an orchestrator Abort
// callback), and the actual cost after it (Actual), all from one model
// (Usage priced by Price) and one price table (Prices, embedded as
// prices.json with its source and date; ParsePriceList reads the AWS Price
// List API's GetProducts output to refresh it).
//
// The local backend is priced as if the same run had gone to Lambda, SQS
// and S3 in the plan's regions.
//
// cost imports the orchestrator, its plan and shard packages, the engine and
// the standard library; never the AWS SDK (the CLI fetches price lists; the
// AWS adapters implement Counter), never functions/* and never cmd/.
package cost
