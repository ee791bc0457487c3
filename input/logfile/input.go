package logfile

import (
	"strings"
	"time"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	"github.com/elastic/beats/v7/libbeat/feature"
	"github.com/elastic/beats/v7/libbeat/statestore"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"

	"github.com/tibeat/tibeat/input/internal/publish"
	"github.com/tibeat/tibeat/internal/runmode"
)

const inputName = "logfile"

// Plugin returns the logfile input type. Its cursor manager keeps the
// per-file read positions in store.
func Plugin(log *logp.Logger, store statestore.States) v2.Plugin {
	return v2.Plugin{
		Name:       inputName,
		Stability:  feature.Beta,
		Deprecated: false,
		Info:       "STIX files on disk",
		Doc:        "Reads STIX 2.0 and 2.1 bundles, JSON arrays of STIX objects and NDJSON files, plain or gzip-compressed, and publishes one event per STIX object.",
		Manager: &cursor.InputManager{
			Logger:     log,
			StateStore: store,
			Type:       inputName,
			Configure:  configure,
		},
	}
}

func configure(cfg *conf.C, _ *logp.Logger) ([]cursor.Source, cursor.Input, error) {
	c := defaultConfig()
	if err := cfg.Unpack(&c); err != nil {
		return nil, nil, err
	}
	settings := struct {
		ID string `config:"id"`
	}{}
	if err := cfg.Unpack(&settings); err != nil {
		return nil, nil, err
	}
	return []cursor.Source{newSource(settings.ID, c.Paths)}, &input{config: c}, nil
}

// source is the single cursor source of an input. Its name keys the
// cursor in the registry.
type source struct{ name string }

func (s source) Name() string { return s.name }

// newSource names the source. The cursor manager already puts the input id
// into the registry key, so with an id the name is constant and the glob
// patterns can be edited without losing the read positions. Without an id
// the patterns themselves tell inputs apart.
func newSource(id string, paths []string) source {
	if id != "" {
		return source{name: "files"}
	}
	return source{name: "paths=" + strings.Join(paths, ",")}
}

// input reads the files of one logfile input.
type input struct {
	config config
}

func (inp *input) Name() string { return inputName }

// Test accepts any configuration that passed Validate: files that do not
// exist yet may appear later.
func (inp *input) Test(cursor.Source, v2.TestContext) error { return nil }

// Run reads every matching file, then rescans every scan_frequency until the
// input is stopped. With --once it returns after the first scan.
func (inp *input) Run(ctx v2.Context, _ cursor.Source, cur cursor.Cursor, pub cursor.Publisher) error {
	log := ctx.Logger
	async := publish.NewAsync(pub)
	defer async.Close()
	h := newHarvester(harvesterConfig{
		log:              log,
		publisher:        async,
		cancel:           ctx.Cancelation,
		metrics:          newInputMetrics(ctx.MetricsRegistry, ctx.IDWithoutName),
		maxObjectSize:    int(inp.config.MaxObjectSize),
		once:             runmode.Once(),
		progressInterval: inp.config.ProgressInterval,
	})
	h.loadCursor(cur)

	for {
		if err := h.scan(inp.config.Paths); err != nil {
			log.Infow("Input stopped while reading files", "error", err)
			return nil
		}
		if runmode.Once() {
			log.Infow("All files read once, input done")
			return nil
		}

		select {
		case <-ctx.Cancelation.Done():
			return nil
		case <-time.After(inp.config.ScanFrequency):
		}
	}
}
