// Package demotarget is a small HTTP server that imitates the serverless store
// API of the seed article (a Lambda + API Gateway shop, an auth flow, an
// asynchronous report job and an edge runtime), so that stampede can be tried
// and tested with nothing but Go: `stampede target` serves it and the
// examples/ plans point at it.
//
// It simulates what makes serverless targets interesting under load: a few
// milliseconds of latency per route (search slower, an occasional tail), a
// cold start whenever a route needs one more concurrent "instance" than it has
// warm (and again after it sat idle), and optional API Gateway style 429
// throttling past a request rate. Options.NoDelay turns the delays off for
// tests; the X-Cold-Start response header still says when one happened.
//
// Memory is bounded: access tokens are stateless (HMAC-signed), and the
// report job table is capped and expires old jobs.
//
// It imports only the standard library and must not import the engine, the
// orchestrator or anything of AWS.
package demotarget
