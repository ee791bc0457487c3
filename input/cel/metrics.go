package cel

import (
	"time"

	"github.com/rcrowley/go-metrics"

	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/monitoring"
	"github.com/elastic/elastic-agent-libs/monitoring/adapter"
)

// inputMetrics are the counters of one cel input, in the input's metrics
// registry. The names that Filebeat's CEL input also has keep its meaning.
type inputMetrics struct {
	resource            *monitoring.String // resource.url without credentials
	executions          *monitoring.Uint   // evaluations of the program
	evaluationErrors    *monitoring.Uint   // evaluations that failed
	eventsReceived      *monitoring.Uint   // events the program returned
	eventsPublished     *monitoring.Uint   // events handed to the pipeline
	errorEvents         *monitoring.Uint   // events with an error key, published as error documents
	cursorUpdates       *monitoring.Uint   // cursor updates handed to the pipeline
	httpRequests        *monitoring.Uint   // HTTP attempts sent, retries included
	httpRequestErrors   *monitoring.Uint   // HTTP attempts that got no response
	httpResponses2xx    *monitoring.Uint
	httpResponses3xx    *monitoring.Uint
	httpResponses4xx    *monitoring.Uint
	httpResponses5xx    *monitoring.Uint
	evaluationTime      metrics.Sample // nanoseconds per evaluation
	executionsLimitHits *monitoring.Uint
}

func newInputMetrics(reg *monitoring.Registry, log *logp.Logger) *inputMetrics {
	if reg == nil {
		reg = monitoring.NewRegistry()
	}
	m := &inputMetrics{
		resource:            monitoring.NewString(reg, "resource"),
		executions:          monitoring.NewUint(reg, "cel_executions"),
		evaluationErrors:    monitoring.NewUint(reg, "cel_errors_total"),
		eventsReceived:      monitoring.NewUint(reg, "events_received_total"),
		eventsPublished:     monitoring.NewUint(reg, "events_published_total"),
		errorEvents:         monitoring.NewUint(reg, "error_events_total"),
		cursorUpdates:       monitoring.NewUint(reg, "cursor_updates_total"),
		httpRequests:        monitoring.NewUint(reg, "http_request_total"),
		httpRequestErrors:   monitoring.NewUint(reg, "http_request_errors_total"),
		httpResponses2xx:    monitoring.NewUint(reg, "http_response_2xx_total"),
		httpResponses3xx:    monitoring.NewUint(reg, "http_response_3xx_total"),
		httpResponses4xx:    monitoring.NewUint(reg, "http_response_4xx_total"),
		httpResponses5xx:    monitoring.NewUint(reg, "http_response_5xx_total"),
		executionsLimitHits: monitoring.NewUint(reg, "max_executions_reached_total"),
		evaluationTime:      metrics.NewUniformSample(1024),
	}
	_ = adapter.NewGoMetrics(reg, "cel_processing_time", log, adapter.Accept).
		Register("histogram", metrics.NewHistogram(m.evaluationTime))
	return m
}

func (m *inputMetrics) observeEvaluation(d time.Duration) {
	m.evaluationTime.Update(d.Nanoseconds())
}

func (m *inputMetrics) countResponse(status int) {
	switch {
	case status >= 500:
		m.httpResponses5xx.Inc()
	case status >= 400:
		m.httpResponses4xx.Inc()
	case status >= 300:
		m.httpResponses3xx.Inc()
	case status >= 200:
		m.httpResponses2xx.Inc()
	}
}
