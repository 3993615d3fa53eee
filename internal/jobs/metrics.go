package jobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-crm/custos/internal/store"
)

// metrics counts job outcomes as they happen and, at each scrape, the jobs
// and outbox deliveries in each state.
type metrics struct {
	jobs *prometheus.CounterVec
}

func newMetrics(st *store.Store, reg prometheus.Registerer) *metrics {
	m := &metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custos_jobs_worked_total",
			Help: "Jobs worked by this process, by kind and outcome (completed, failed, cancelled).",
		}, []string{"kind", "outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.jobs, &stateCollector{st: st})
	}
	return m
}

var (
	jobStateDesc = prometheus.NewDesc("custos_jobs",
		"Jobs in the queue by state (available, scheduled, running, retryable, completed, discarded, cancelled).",
		[]string{"state"}, nil)
	deliveryStateDesc = prometheus.NewDesc("custos_outbox_messages",
		"Outbox messages (webhook deliveries and e-mails) by kind and state (pending, delivered, dead).",
		[]string{"kind", "state"}, nil)
)

// stateCollector counts rows by state when /metrics is scraped.
type stateCollector struct{ st *store.Store }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobStateDesc
	ch <- deliveryStateDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if rows, err := c.st.DB.QueryContext(ctx, `SELECT state, COUNT(*) FROM river_job GROUP BY state`); err == nil {
		for rows.Next() {
			var state string
			var n float64
			if rows.Scan(&state, &n) == nil {
				ch <- prometheus.MustNewConstMetric(jobStateDesc, prometheus.GaugeValue, n, state)
			}
		}
		_ = rows.Close()
	}
	if rows, err := c.st.DB.QueryContext(ctx, `SELECT kind, state, COUNT(*) FROM outbox_messages GROUP BY kind, state`); err == nil {
		for rows.Next() {
			var kind, state string
			var n float64
			if rows.Scan(&kind, &state, &n) == nil {
				ch <- prometheus.MustNewConstMetric(deliveryStateDesc, prometheus.GaugeValue, n, kind, state)
			}
		}
		_ = rows.Close()
	}
}
