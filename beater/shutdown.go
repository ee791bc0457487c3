package beater

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/elastic/elastic-agent-libs/logp"
)

// outputCloseGrace bounds how long tibeat waits, after SIGINT or SIGTERM,
// for libbeat to start closing the publisher pipeline.
//
// On the signal, libbeat closes the pipeline first and only then calls
// Stop. Closing the pipeline waits for the output, and an output whose
// server accepted the connection and never responds (the logstash output,
// for one) holds it until its own timeout, which may be minutes. tibeat
// therefore stops its inputs as soon as the signal comes, so that they
// read and fetch nothing more, and returns once libbeat has started
// closing, from when acknowledgements no longer move cursors (see
// closingPipeline). Events the output did not acknowledge by then keep
// their cursors unsaved, so the next run sends them again.
const outputCloseGrace = 5 * time.Second

// stopOnSignal calls stop when SIGINT or SIGTERM arrives. The returned
// function ends the watch.
func stopOnSignal(stop context.CancelFunc) func() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-signals:
			stop()
		case <-done:
		}
	}()
	return func() {
		signal.Stop(signals)
		close(done)
	}
}

// awaitClosing waits, after the inputs were stopped, until libbeat has
// started closing the pipeline or grace has passed, so that the registry
// and the context index close only once acknowledgements no longer reach
// them.
func awaitClosing(tracker *inflight, log *logp.Logger, grace time.Duration) {
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-tracker.closingStarted():
	case <-timer.C:
		log.Warnw("libbeat did not start closing the output after the stop; stopping without it, and events the output did not acknowledge are sent again by the next run",
			"grace", grace)
	}
}
