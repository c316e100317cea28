package demotarget

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Report job states.
const (
	JobQueued     = "queued"
	JobProcessing = "processing"
	JobCompleted  = "completed"
)

// job is one asynchronous report: queued for the first third of its time,
// processing until done, then completed.
type job struct {
	created time.Time
	took    time.Duration
	format  string
}

// state returns the job's status at now.
func (j *job) state(now time.Time) string {
	age := now.Sub(j.created)
	switch {
	case age >= j.took:
		return JobCompleted
	case age >= j.took/3:
		return JobProcessing
	default:
		return JobQueued
	}
}

// jobTable remembers at most max jobs for ttl each. Safe for concurrent use.
type jobTable struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	fixed time.Duration // job time, 0: random 1–3s
	jobs  map[string]*job
	order []string // ids in creation order (oldest first)
}

func newJobTable(max int, ttl, fixed time.Duration) *jobTable {
	return &jobTable{max: max, ttl: ttl, fixed: fixed, jobs: make(map[string]*job)}
}

// add creates a job at now and returns its id, forgetting expired jobs and,
// when the table is full, the oldest one.
func (t *jobTable) add(now time.Time, format string) string {
	took := t.fixed
	if took <= 0 {
		took = time.Second + rand.N(2*time.Second)
	}
	id := fmt.Sprintf("job_%016x", rand.Uint64())
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.order) > 0 {
		oldest := t.jobs[t.order[0]]
		if len(t.order) < t.max && (oldest == nil || now.Sub(oldest.created) < t.ttl) {
			break
		}
		delete(t.jobs, t.order[0])
		t.order = t.order[1:]
	}
	if len(t.order) == 0 {
		t.order = nil // let the old backing array go
	}
	t.jobs[id] = &job{created: now, took: took, format: format}
	t.order = append(t.order, id)
	return id
}

// get returns the job with id.
func (t *jobTable) get(id string) (job, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	j, ok := t.jobs[id]
	if !ok {
		return job{}, false
	}
	return *j, true
}

// len is the number of jobs remembered.
func (t *jobTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.jobs)
}

// reportRequest is the body of POST /prod/reports.
type reportRequest struct {
	ReportType string `json:"reportType"`
	Format     string `json:"format"`
}

func (t *Target) createReport(w http.ResponseWriter, r *http.Request) {
	var req reportRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.ReportType == "" {
		writeError(w, http.StatusBadRequest, "reportType is required")
		return
	}
	if req.Format == "" {
		req.Format = "pdf"
	}
	id := t.jobs.add(time.Now(), req.Format)
	w.Header().Set("Location", "/prod/reports/"+id)
	writeJSON(w, http.StatusAccepted, map[string]any{"jobId": id, "status": JobQueued})
}

func (t *Target) reportStatus(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("jobId")
	j, ok := t.jobs.get(id)
	if !ok {
		writeError(w, http.StatusNotFound, "job not found")
		return
	}
	body := map[string]any{"jobId": id, "status": j.state(time.Now())}
	if body["status"] == JobCompleted {
		body["downloadUrl"] = "/prod/reports/" + id + "/download." + j.format
	}
	writeJSON(w, http.StatusOK, body)
}
