package logfile

import (
	"time"

	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/monitoring"

	"github.com/tibeat/tibeat/internal/runstats"
)

// inputMetrics are the counters of one input, published under the input's
// metrics registry.
type inputMetrics struct {
	objectsRead  *monitoring.Uint // STIX objects read, each published as one event
	bytesRead    *monitoring.Uint // decompressed bytes consumed
	filesRead    *monitoring.Uint // reads that reached the end of a file or an error that stops it
	readErrors   *monitoring.Uint // invalid content skipped or that stopped a file, and files that could not be read
	readWarnings *monitoring.Uint // problems that lose no object, such as an empty file
}

func newInputMetrics(reg *monitoring.Registry, inputID string) *inputMetrics {
	if reg == nil {
		reg = monitoring.NewRegistry()
	}
	return &inputMetrics{
		objectsRead:  monitoring.NewUint(reg, "objects_read"),
		bytesRead:    monitoring.NewUint(reg, "bytes_read"),
		filesRead:    monitoring.NewUint(reg, "files_read"),
		readErrors:   runstats.ErrorCounter(reg, inputID, "read_errors"),
		readWarnings: monitoring.NewUint(reg, "read_warnings"),
	}
}

// progressLog logs the progress of a long file read at most once per
// interval (the progress_interval setting).
type progressLog struct {
	log      *logp.Logger
	path     string
	interval time.Duration
	started  time.Time
	next     time.Time
}

func newProgressLog(log *logp.Logger, path string, interval time.Duration, now time.Time) *progressLog {
	return &progressLog{log: log, path: path, interval: interval, started: now, next: now.Add(interval)}
}

// update logs when the interval has passed. objects counts the objects of
// this read so far and offset is the current position in the stream.
func (p *progressLog) update(now time.Time, objects uint64, offset int64) {
	if now.Before(p.next) {
		return
	}
	p.next = now.Add(p.interval)
	p.log.Infow("Progress reading STIX file",
		"log.file.path", p.path,
		"objects", objects,
		"log.offset", offset,
		"objects_per_second", rate(objects, now.Sub(p.started)))
}

// rate returns objects per second, rounded down.
func rate(objects uint64, elapsed time.Duration) uint64 {
	if elapsed <= 0 {
		return 0
	}
	return uint64(float64(objects) / elapsed.Seconds())
}
