package demotarget

import (
	"math/rand/v2"
	"net/http"
	"time"
)

// pageTitle returns the title of a content page the edge serves.
func pageTitle(slug string) (string, bool) {
	switch slug {
	case "spring-launch":
		return "Spring Launch", true
	case "pricing":
		return "Pricing", true
	case "docs-getting-started":
		return "Getting Started", true
	case "blog-serverless-performance":
		return "Serverless Performance", true
	case "enterprise-security":
		return "Enterprise Security", true
	}
	return "", false
}

// Edge cache simulation: a content request misses the cache this often and
// then pays an origin fetch of about originFetch.
const (
	cacheMissChance = 0.2
	originFetch     = 25 * time.Millisecond
)

// visitor is what the edge reads from a request's headers and cookies.
type visitor struct {
	Variant string `json:"variant"`
	Country string `json:"country"`
	Device  string `json:"device"`
	Session string `json:"session,omitempty"`
}

// readVisitor reads the A/B variant and session from cookies and the
// geography and device from headers, with defaults.
func readVisitor(r *http.Request) visitor {
	v := visitor{Variant: "A", Country: "US", Device: "desktop"}
	if c, err := r.Cookie("ab_variant"); err == nil && (c.Value == "A" || c.Value == "B") {
		v.Variant = c.Value
	}
	if c, err := r.Cookie("session_id"); err == nil {
		v.Session = c.Value
	}
	if s := r.Header.Get("X-Geo-Country"); s != "" {
		v.Country = s
	}
	if s := r.Header.Get("X-Device-Type"); s != "" {
		v.Device = s
	}
	return v
}

func (t *Target) edgeHome(w http.ResponseWriter, r *http.Request) {
	v := readVisitor(r)
	if _, err := r.Cookie("ab_variant"); err != nil {
		http.SetCookie(w, &http.Cookie{Name: "ab_variant", Value: v.Variant, Path: "/edge"})
	}
	w.Header().Set("X-Cache", "HIT")
	writeJSON(w, http.StatusOK, map[string]any{"page": "home", "visitor": v, "hero": "hero-" + v.Variant})
}

func (t *Target) edgeContent(w http.ResponseWriter, r *http.Request) {
	title, ok := pageTitle(r.PathValue("slug"))
	if !ok {
		writeError(w, http.StatusNotFound, "page not found")
		return
	}
	cache := "HIT"
	if rand.Float64() < cacheMissChance {
		cache = "MISS"
		if !t.opts.NoDelay && !sleep(r, jitter(originFetch)) {
			return
		}
	}
	w.Header().Set("X-Cache", cache)
	writeJSON(w, http.StatusOK, map[string]any{"slug": r.PathValue("slug"), "title": title, "visitor": readVisitor(r)})
}

// trackEvent is the body of POST /edge/track.
type trackEvent struct {
	Event    string            `json:"event"`
	Path     string            `json:"path"`
	Metadata map[string]string `json:"metadata"`
}

func (t *Target) edgeTrack(w http.ResponseWriter, r *http.Request) {
	var ev trackEvent
	if !readJSON(w, r, &ev) {
		return
	}
	if ev.Event == "" {
		writeError(w, http.StatusBadRequest, "event is required")
		return
	}
	v := readVisitor(r)
	writeJSON(w, http.StatusAccepted, map[string]any{
		"accepted": true, "event": ev.Event, "variant": v.Variant, "country": v.Country, "session": v.Session,
	})
}
