// Package inputtest runs tibeat's cursor inputs in tests as a Beat runs
// them: over a memlog registry on disk, through the plugin's input manager,
// and into a pipeline that acknowledges events through the client's
// EventListener. Only tests import it.
package inputtest

import (
	"context"
	"testing"
	"time"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/statestore"
	"github.com/elastic/beats/v7/libbeat/statestore/backend/memlog"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/monitoring"
	"github.com/elastic/go-concert/unison"

	"github.com/tibeat/tibeat/internal/runmode"
)

// registryStates opens every input type's store in one memlog registry, as
// a Beat's registry does.
type registryStates struct{ reg *statestore.Registry }

func (s registryStates) StoreFor(typ string) (*statestore.Store, error) { return s.reg.Get(typ) }
func (s registryStates) CleanupInterval() time.Duration                 { return time.Hour }

// Beat is one start of a Beat with one input plugin: a registry on disk and
// the plugin's input manager. Stop writes and closes the registry, as a
// Beat's stop does. Stopping before the events are acknowledged leaves the
// registry as a SIGKILL would.
type Beat struct {
	// Plugin is the input plugin, with its manager initialized.
	Plugin v2.Plugin

	t         testing.TB
	log       *logp.Logger
	storeName string
	reg       *statestore.Registry
	group     unison.TaskGroup
}

// StartBeat opens the memlog registry in registryDir, builds the plugin
// with newPlugin over it and initializes the plugin's input manager, which
// must be a *cursor.InputManager. log is the logger of the plugin and of
// every v2.Context that InputContext returns.
func StartBeat(t testing.TB, registryDir string, log *logp.Logger, newPlugin func(*logp.Logger, statestore.States) v2.Plugin) *Beat {
	t.Helper()
	backend, err := memlog.New(logp.NewNopLogger(), memlog.Settings{Root: registryDir})
	if err != nil {
		t.Fatal(err)
	}
	b := &Beat{t: t, log: log, reg: statestore.NewRegistry(backend)}
	b.Plugin = newPlugin(log, registryStates{b.reg})
	manager, ok := b.Plugin.Manager.(*cursor.InputManager)
	if !ok {
		t.Fatalf("plugin %s has manager %T, expected a *cursor.InputManager", b.Plugin.Name, b.Plugin.Manager)
	}
	b.storeName = manager.Type
	if err := b.Plugin.Manager.Init(&b.group); err != nil {
		t.Fatal(err)
	}
	return b
}

// Stop stops the input manager, then writes and closes the registry.
func (b *Beat) Stop() {
	if err := b.group.Stop(); err != nil {
		b.t.Fatal(err)
	}
	if err := b.reg.Close(); err != nil {
		b.t.Fatal(err)
	}
}

// Create creates an input from settings through the plugin's manager.
func (b *Beat) Create(settings map[string]any) v2.Input {
	b.t.Helper()
	inp, err := b.Plugin.Manager.Create(conf.MustNewConfigFrom(settings))
	if err != nil {
		b.t.Fatal(err)
	}
	return inp
}

// InputContext returns the v2.Context of an input named after the plugin
// that runs until ctx ends.
func (b *Beat) InputContext(ctx context.Context) v2.Context {
	return v2.Context{
		ID:              b.Plugin.Name + "-test",
		IDWithoutName:   b.Plugin.Name + "-test",
		Name:            b.Plugin.Name,
		Cancelation:     ctx,
		Logger:          b.log,
		MetricsRegistry: monitoring.NewRegistry(),
	}
}

// Run creates the input from settings and runs it until it returns or ctx
// ends.
func (b *Beat) Run(ctx context.Context, settings map[string]any, pipeline beat.PipelineConnector) error {
	b.t.Helper()
	return b.Create(settings).Run(b.InputContext(ctx), pipeline)
}

// RunOnce runs the input from settings in --once mode and returns its
// error.
func (b *Beat) RunOnce(settings map[string]any, pipeline beat.PipelineConnector) error {
	b.t.Helper()
	runmode.SetOnce(true)
	defer runmode.SetOnce(false)
	return b.Run(context.Background(), settings, pipeline)
}

// StoredCursors reads the cursor of every resource in the input's store, in
// the order the store lists them. The cursor is nil for a resource that has
// none yet.
func (b *Beat) StoredCursors() []map[string]any {
	b.t.Helper()
	store, err := b.reg.Get(b.storeName)
	if err != nil {
		b.t.Fatal(err)
	}
	defer store.Close()
	var found []map[string]any
	err = store.Each(func(_ string, dec statestore.ValueDecoder) (bool, error) {
		// The manager stores a resource's TTL before its first
		// acknowledged update, with a null cursor. A struct with a map
		// field fails to decode that, so the state is decoded into a map.
		st := map[string]any{}
		if err := dec.Decode(&st); err != nil {
			return false, err
		}
		cur, _ := st["cursor"].(map[string]any)
		found = append(found, cur)
		return true, nil
	})
	if err != nil {
		b.t.Fatal(err)
	}
	return found
}

// StoredCursor reads the input's cursor from the registry: the last one
// that StoredCursors lists, or nil when the store is empty.
func (b *Beat) StoredCursor() map[string]any {
	b.t.Helper()
	cursors := b.StoredCursors()
	if len(cursors) == 0 {
		return nil
	}
	return cursors[len(cursors)-1]
}
