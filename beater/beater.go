// Package beater runs tibeat: it opens the registry, loads the configured
// inputs through Filebeat's input v2 loader, attaches the STIX processors to
// each input's pipeline client, and under --once exits when every input has
// reached the end of its data and the output has acknowledged every event.
package beater

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/common/acker"
	"github.com/elastic/beats/v7/libbeat/monitoring/inputmon"
	"github.com/elastic/beats/v7/libbeat/publisher/pipetool"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/go-concert/unison"

	"github.com/tibeat/tibeat/input/cel"
	"github.com/tibeat/tibeat/input/logfile"
	"github.com/tibeat/tibeat/input/taxii"
	"github.com/tibeat/tibeat/internal/runmode"
	stixproc "github.com/tibeat/tibeat/processors/stix"
)

type tibeat struct {
	config  Config
	log     *logp.Logger
	tracker *inflight
	cancel  context.CancelFunc
	ctx     context.Context
}

// New is the beat.Creator of tibeat. It checks the input list so that a bad
// configuration fails before anything runs.
func New(b *beat.Beat, raw *conf.C) (beat.Beater, error) {
	cfg := defaultConfig()
	if err := raw.Unpack(&cfg); err != nil {
		return nil, fmt.Errorf("invalid tibeat settings: %w", err)
	}
	presets, err := enabledPresets(b)
	if err != nil {
		return nil, err
	}
	all := namedInputs(cfg.Inputs, presets)
	inputs, err := enabledInputs(all)
	if err != nil {
		return nil, err
	}
	warnUnknownSettings(b.Info.Logger, raw, all)
	if len(inputs) == 0 && !b.InSetupCmd {
		return nil, errors.New("no inputs enabled: add at least one input under tibeat.inputs")
	}
	if err := validateInputs(b.Info.Logger, inputs); err != nil {
		return nil, err
	}
	cfg.Inputs = make([]*conf.C, 0, len(inputs))
	for _, in := range inputs {
		cfg.Inputs = append(cfg.Inputs, in.cfg)
	}
	log := b.Info.Logger.Named("tibeat")
	if err := registerPipelineLoading(b, presets, log); err != nil {
		return nil, err
	}

	// libbeat closes whatever b.Publisher is when the stop signal comes,
	// which can be while Run is still opening the registry and the context
	// index, so the wrapper that reports the closing goes in here.
	tracker := newInflight()
	b.Publisher = closingPipeline{PipelineConnector: b.Publisher, tracker: tracker}

	ctx, cancel := context.WithCancel(context.Background())
	return &tibeat{config: cfg, log: log, tracker: tracker, ctx: ctx, cancel: cancel}, nil
}

// Stop cancels every input. Run then waits for them and returns.
func (bt *tibeat) Stop() { bt.cancel() }

// Run starts the inputs and blocks until they stop. Under --once it returns
// an error when an input failed, so that the process exits non-zero.
func (bt *tibeat) Run(b *beat.Beat) error {
	started := time.Now()
	defer stopOnSignal(bt.cancel)()
	if b.API != nil {
		if err := inputmon.AttachHandler(b.API.Router(), b.Monitoring.InputsRegistry()); err != nil {
			return fmt.Errorf("attach the inputs endpoint to the monitoring server: %w", err)
		}
	}

	store, err := openStateStore(bt.log, b.Info.Beat, bt.config.Registry, b.Paths)
	if err != nil {
		return fmt.Errorf("open the registry: %w", err)
	}
	defer store.Close()

	var managers unison.TaskGroup
	defer managers.Stop()
	loader, err := v2.NewLoader(bt.log.Named("input"), plugins(b.Info.Logger, store), "type", "")
	if err != nil {
		return err
	}
	if err := loader.Init(&managers); err != nil {
		return err
	}

	// STIX context: the index of related objects and the republishing of
	// indicators whose context arrives after them (beater/context.go).
	enrichment, err := openEnrichment(bt.log, b.Paths, bt.config.Context.limits())
	if err != nil {
		return err
	}
	defer enrichment.close()

	tracker := bt.tracker
	// The context index journals what it learns from each event in a
	// buffer. This listener writes the buffer to the file before the
	// input's listener stores a cursor for the same acknowledgement, so
	// that a killed tibeat keeps the entries of every object its cursors
	// cover (tests/system/test_context_crash.py).
	tracker.beforeCursor = enrichment.flush
	runners, err := bt.configure(b, loader, tracker, enrichment.stix)
	if err != nil {
		return err
	}
	if err := enrichment.start(runners); err != nil {
		return err
	}

	errs := bt.runAll(b, runners)
	enrichment.drain()
	if runmode.Once() {
		bt.awaitAcknowledged(tracker)
	}
	if bt.ctx.Err() != nil {
		// The run was stopped by a signal or by libbeat, so wait as
		// outputCloseGrace describes.
		awaitClosing(tracker, bt.log, outputCloseGrace)
	}
	if runmode.Once() {
		printSummary(bt.log, time.Since(started), tracker.acknowledged(), tracker.unacknowledged(), runners)
	}
	return errors.Join(errs...)
}

func plugins(log *logp.Logger, store *stateStore) []v2.Plugin {
	return []v2.Plugin{
		logfile.Plugin(log, store),
		taxii.Plugin(log, store),
		cel.Plugin(log, store),
	}
}

// runner is one configured input with the pipeline it publishes to.
type runner struct {
	id       string
	input    v2.Input
	pipeline beat.PipelineConnector
	metrics  map[string]int64 // the input's metrics when it stopped
}

func (bt *tibeat) configure(b *beat.Beat, loader *v2.Loader, tracker *inflight, stixContext *stixproc.Context) ([]*runner, error) {
	base := pipetool.WithDefaultGuarantees(b.Publisher, beat.GuaranteedSend)
	var runners []*runner
	for _, cfg := range bt.config.Inputs {
		id, _ := cfg.String("id", -1)
		input, err := loader.Configure(cfg)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", id, err)
		}
		edit, err := processingEditor(b.Info, bt.config.STIX, cfg, stixContext)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", id, err)
		}
		pipeline := pipetool.WithClientConfigEdit(base, edit)
		pipeline = pipetool.WithClientConfigEdit(pipeline, tracker.attach)
		runners = append(runners, &runner{id: id, input: input, pipeline: pipeline})
	}
	return runners, nil
}

// attach gives every pipeline client its own ACK listener: the counting
// listener needs the events of one client in order.
func (f *inflight) attach(cfg beat.ClientConfig) (beat.ClientConfig, error) {
	l := f.listener()
	if cfg.EventListener != nil {
		l = acker.Combine(l, cursorGate{f: f, next: cfg.EventListener})
	}
	cfg.EventListener = l
	return cfg, nil
}

// runAll runs every input until it returns and collects the errors of those
// that failed. A failing input does not stop the others.
func (bt *tibeat) runAll(b *beat.Beat, runners []*runner) []error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := bt.run(b, r); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("input %q failed: %w", r.id, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

func (bt *tibeat) run(b *beat.Beat, r *runner) (err error) {
	log := bt.log.With("input_id", r.id, "input_type", r.input.Name())
	reg, pipeline, unregister := v2.PrepareInputMetrics(r.id, r.input.Name(), b.Monitoring.InputsRegistry(), r.pipeline, log)
	defer unregister()
	defer func() { r.metrics = snapshot(reg) }()

	ctx := v2.Context{
		ID:              r.id,
		IDWithoutName:   r.id,
		Name:            r.input.Name(),
		Agent:           b.Info,
		Cancelation:     bt.ctx,
		MetricsRegistry: reg,
		Logger:          log,
	}
	log.Info("input starting")
	err = r.input.Run(ctx, pipeline)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	if err != nil {
		log.Errorw("input failed", "error", err)
		return err
	}
	log.Info("input stopped")
	return nil
}

// awaitAcknowledged waits until the output has acknowledged every event, or
// until the beat is stopped.
func (bt *tibeat) awaitAcknowledged(tracker *inflight) {
	select {
	case <-tracker.wait():
	case <-bt.ctx.Done():
		// select picks at random when both are ready, so check again that
		// something is still outstanding before warning.
		select {
		case <-tracker.wait():
		default:
			bt.log.Warn("stopped before the output acknowledged every event; the next run sends them again")
		}
	}
}
