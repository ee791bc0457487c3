package beater

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/elastic/elastic-agent-libs/logp"
)

// outputCloseGrace is how long tibeat waits, after SIGINT or SIGTERM, for
// libbeat to stop it.
//
// On the signal, libbeat closes the publisher pipeline first and only
// then calls Stop. Closing the pipeline waits for the output, and an output
// whose server accepted the connection and never responds (the logstash
// output, for one) holds it until its own timeout, which may be minutes.
// Past the grace, tibeat stops without the output. The events it did not
// acknowledge keep their cursors unsaved, so the next run sends them again.
const outputCloseGrace = 5 * time.Second

// stopAfterSignal cancels stop when libbeat has not done so within grace of
// a termination signal. The returned function ends the watch.
func stopAfterSignal(ctx context.Context, stop context.CancelFunc, log *logp.Logger, grace time.Duration) func() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-signals:
		case <-ctx.Done():
			return
		case <-done:
			return
		}
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-timer.C:
			log.Warnw("the output did not close after the stop signal; stopping without it, and events it did not acknowledge are sent again by the next run",
				"grace", grace)
			stop()
		case <-ctx.Done():
		case <-done:
		}
	}()
	return func() {
		signal.Stop(signals)
		close(done)
	}
}
