package beater

import (
	"time"

	"github.com/elastic/beats/v7/libbeat/statestore"
	"github.com/elastic/beats/v7/libbeat/statestore/backend/memlog"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/paths"
)

// stateStore gives inputs one memlog store under path.data, shared by every
// input type; the cursor manager prefixes its keys with the input type and id.
type stateStore struct {
	registry *statestore.Registry
	name     string
	cleanup  time.Duration
}

var _ statestore.States = (*stateStore)(nil)

func openStateStore(log *logp.Logger, name string, cfg RegistryConfig, beatPaths *paths.Path) (*stateStore, error) {
	backend, err := memlog.New(log.Named("registry"), memlog.Settings{
		Root:     beatPaths.Resolve(paths.Data, cfg.Path),
		FileMode: cfg.Permissions,
	})
	if err != nil {
		return nil, err
	}
	return &stateStore{
		registry: statestore.NewRegistry(backend),
		name:     name,
		cleanup:  cfg.CleanupIdle,
	}, nil
}

func (s *stateStore) StoreFor(string) (*statestore.Store, error) {
	return s.registry.Get(s.name)
}

func (s *stateStore) CleanupInterval() time.Duration { return s.cleanup }

func (s *stateStore) Close() { s.registry.Close() }
