// Package metrics counts what the server does, for Prometheus: messages by
// outcome, script run time by engine, refusals, duplicates and reloads. No
// label carries a phone number or a message.
package metrics

import (
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lamlhost/lamlhost/engine/script"
)

// Metrics holds the server's collectors in a registry of its own.
type Metrics struct {
	reg        *prometheus.Registry
	messages   *prometheus.CounterVec
	runs       *prometheus.HistogramVec
	refused    *prometheus.CounterVec
	duplicates prometheus.Counter
	limited    prometheus.Counter
	reloads    *prometheus.CounterVec
	lastReload prometheus.Gauge
}

// New returns Metrics with every collector registered, plus the Go
// runtime's and the process's.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lamlhost_messages_total",
			Help: "Messages answered by a script run, by outcome: ok or the kind of error.",
		}, []string{"engine", "outcome"}),
		runs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lamlhost_run_seconds",
			Help:    "Time from a message's routing to its rendered answer.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .05, .25, 1, 5},
		}, []string{"engine"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lamlhost_refused_total",
			Help: "Requests answered with an error status before any script ran.",
		}, []string{"status"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lamlhost_duplicates_total",
			Help: "Messages answered from the record of answered messages.",
		}),
		limited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lamlhost_rate_limited_total",
			Help: "Messages over their number's rate limit.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lamlhost_reloads_total",
			Help: "Reloads of config and scripts, by outcome.",
		}, []string{"outcome"}),
		lastReload: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lamlhost_last_reload_ok",
			Help: "1 if the last reload applied everything, 0 if something was rejected.",
		}),
	}
	m.lastReload.Set(1)
	m.reg.MustRegister(m.messages, m.runs, m.refused, m.duplicates, m.limited,
		m.reloads, m.lastReload, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// kinds names each script error kind as a label value.
var kinds = []struct {
	err   error
	label string
}{
	{script.ErrCompile, "compile"}, {script.ErrRuntime, "runtime"},
	{script.ErrTimeout, "timeout"}, {script.ErrMemory, "memory"},
	{script.ErrLimit, "limit"}, {script.ErrReply, "reply"},
	{script.ErrBusy, "busy"}, {script.ErrPanic, "panic"},
}

// Message counts one script run and its duration.
func (m *Metrics) Message(engine string, err error, took time.Duration) {
	if m == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
		for _, k := range kinds {
			if errors.Is(err, k.err) {
				outcome = k.label
				break
			}
		}
	}
	m.messages.WithLabelValues(engine, outcome).Inc()
	m.runs.WithLabelValues(engine).Observe(took.Seconds())
}

// Refused counts a request answered with status before any script ran.
func (m *Metrics) Refused(status string) {
	if m != nil {
		m.refused.WithLabelValues(status).Inc()
	}
}

// Duplicate counts a message answered from the record.
func (m *Metrics) Duplicate() {
	if m != nil {
		m.duplicates.Inc()
	}
}

// Limited counts a message over its rate limit.
func (m *Metrics) Limited() {
	if m != nil {
		m.limited.Inc()
	}
}

// Reload counts a reload; ok is false when something was rejected.
func (m *Metrics) Reload(ok bool) {
	if m == nil {
		return
	}
	outcome, v := "ok", 1.0
	if !ok {
		outcome, v = "rejected", 0
	}
	m.reloads.WithLabelValues(outcome).Inc()
	m.lastReload.Set(v)
}
