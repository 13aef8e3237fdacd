package mail

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The outbox's Prometheus metrics (GET /metrics). The counters are this
// process's since it started (sum them over replicas); the gauge is the
// whole outbox, read from the table when scraped.
var (
	descSent = prometheus.NewDesc("gatehouse_mail_sent_total",
		"Messages this process delivered to the SMTP server.", nil, nil)
	descFailed = prometheus.NewDesc("gatehouse_mail_failed_total",
		"Messages this process gave up on (a 5xx answer, or unsent a day after they were queued).", nil, nil)
	descRetries = prometheus.NewDesc("gatehouse_mail_retries_total",
		"Delivery attempts by this process that failed temporarily and will be retried.", nil, nil)
	descPending = prometheus.NewDesc("gatehouse_mail_pending",
		"Messages in the outbox still to be sent, by every replica.", nil, nil)
)

// pendingTimeout bounds the scrape's count query, so a slow database
// delays /metrics by at most this.
const pendingTimeout = 2 * time.Second

// Collector returns the outbox's metrics, for a prometheus.Registry.
func (s *Service) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Service }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descSent
	ch <- descFailed
	ch <- descRetries
	ch <- descPending
}

// Collect reads the counters and counts the pending rows, which the
// partial index mail_outbox_due (rows not yet sent) keeps cheap.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), pendingTimeout)
	defer cancel()
	st, err := c.s.Stats(ctx)
	ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, float64(st.Sent))
	ch <- prometheus.MustNewConstMetric(descFailed, prometheus.CounterValue, float64(st.Failed))
	ch <- prometheus.MustNewConstMetric(descRetries, prometheus.CounterValue, float64(st.Retried))
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descPending, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(st.Pending))
}

// Stats are the worker's counters since start and the outbox's backlog.
type Stats struct {
	// Sent and Failed count messages this process delivered or gave up on
	// (a permanent SMTP error, or GiveUpAfter passed); Retried counts
	// temporary failures that will be tried again.
	Sent, Failed, Retried int64
	// Pending is the number of messages in the outbox still to send.
	Pending int64
}

// Stats reports the counters and the current backlog.
func (s *Service) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Sent: s.sent.Load(), Failed: s.failed.Load(), Retried: s.retry.Load()}
	err := s.db.Gorm.WithContext(ctx).Model(&outboxRow{}).
		Where("sent_at IS NULL AND next_attempt_at IS NOT NULL").Count(&st.Pending).Error
	return st, err
}
