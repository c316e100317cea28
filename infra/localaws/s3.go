package localaws

import (
	"net/http/httptest"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// StartS3 starts an in-memory S3-compatible server (gofakes3) on
// 127.0.0.1, stopped when the test ends, and returns its endpoint URL.
// Clients must use path-style addressing (NewS3Client does).
func StartS3(t testing.TB) (endpoint string) {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	return srv.URL
}
