package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lamlhost/lamlhost/engine/script"
)

func TestCounts(t *testing.T) {
	m := New()
	m.Message("js", nil, time.Millisecond)
	m.Message("lua", script.Errorf(script.ErrTimeout, "x.lua", "slow"), time.Second)
	m.Message("js", script.Errorf(script.ErrMemory, "x.js", "big"), time.Second)
	m.Refused("403")
	m.Duplicate()
	m.Limited()
	m.Reload(false)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`lamlhost_messages_total{engine="js",outcome="ok"} 1`,
		`lamlhost_messages_total{engine="lua",outcome="timeout"} 1`,
		`lamlhost_messages_total{engine="js",outcome="memory"} 1`,
		`lamlhost_refused_total{status="403"} 1`,
		"lamlhost_duplicates_total 1", "lamlhost_rate_limited_total 1",
		`lamlhost_reloads_total{outcome="rejected"} 1`, "lamlhost_last_reload_ok 0",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestNilIsQuiet: a server built without metrics counts nothing and does
// not fail.
func TestNilIsQuiet(t *testing.T) {
	var m *Metrics
	m.Message("js", nil, 0)
	m.Refused("404")
	m.Duplicate()
	m.Limited()
	m.Reload(true)
}
