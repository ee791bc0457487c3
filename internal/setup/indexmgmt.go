package setup

import (
	"context"
	"fmt"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/esleg/eslegclient"
	"github.com/elastic/beats/v7/libbeat/idxmgmt"
	"github.com/elastic/beats/v7/libbeat/idxmgmt/lifecycle"
	"github.com/elastic/beats/v7/libbeat/outputs"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/mapstr"
)

// ILMPolicy returns the lifecycle policy of the data streams: roll the
// write index over daily (or at 50 GB per primary shard), and delete a
// backing index retention after its rollover. A document is therefore kept
// between retention and retention plus one day.
func ILMPolicy(retention string) mapstr.M {
	return mapstr.M{
		"policy": mapstr.M{
			"phases": mapstr.M{
				"hot": mapstr.M{
					"actions": mapstr.M{
						"rollover": mapstr.M{
							"max_age":                "1d",
							"max_primary_shard_size": "50gb",
						},
					},
				},
				"delete": mapstr.M{
					"min_age": retention,
					"actions": mapstr.M{"delete": mapstr.M{}},
				},
			},
			"_meta": mapstr.M{"managed_by": "tibeat"},
		},
	}
}

// IndexManagement returns tibeat's idxmgmt.SupportFactory: libbeat's own,
// with three changes. The Elasticsearch output writes to the data stream
// named by each document's data_stream fields unless the user set an index.
// The ILM policy deletes data after tibeat.data_stream.retention. Loading the
// template into Elasticsearch also installs the active indicators (see
// InstallActiveIndicators).
func IndexManagement() idxmgmt.SupportFactory {
	return func(log *logp.Logger, info beat.Info, root *conf.C) (idxmgmt.Supporter, error) {
		cfg, err := ReadConfig(root)
		if err != nil {
			return nil, err
		}

		// NOTE: libbeat reads the default policy body from these package
		// variables when it creates its lifecycle client handlers, and
		// offers no other hook. setup.ilm.policy_file still wins over them.
		lifecycle.DefaultILMPolicy = ILMPolicy(cfg.DataStream.Retention)
		lifecycle.DefaultDSLPolicy = mapstr.M{"data_retention": cfg.DataStream.Retention}

		inner, err := idxmgmt.MakeDefaultSupport(nil, log)(log, info, root)
		if err != nil {
			return nil, err
		}
		var settings struct {
			Output   conf.Namespace `config:"output"`
			Template struct {
				Enabled bool `config:"enabled"`
			} `config:"setup.template"`
		}
		settings.Template.Enabled = true
		if root != nil {
			if err := root.Unpack(&settings); err != nil {
				return nil, err
			}
		}
		return &supporter{
			Supporter:       inner,
			cfg:             cfg,
			info:            info,
			output:          settings.Output,
			templateEnabled: settings.Template.Enabled,
			log:             log.Named("active-indicators"),
		}, nil
	}
}

type supporter struct {
	idxmgmt.Supporter
	cfg             Config
	info            beat.Info
	output          conf.Namespace
	templateEnabled bool
	log             *logp.Logger
}

// BuildSelector gives the Elasticsearch output IndexFormat as its default
// index. libbeat's default would be tibeat-<version>, which no template
// tibeat installs matches.
func (s *supporter) BuildSelector(cfg *conf.C) (outputs.IndexSelector, error) {
	if cfg != nil && (cfg.HasField("index") || cfg.HasField("indices")) {
		return s.Supporter.BuildSelector(cfg)
	}
	withIndex := conf.NewConfig()
	if err := withIndex.SetString("index", -1, IndexFormat(s.cfg.DataStream.Namespace)); err != nil {
		return nil, err
	}
	return s.Supporter.BuildSelector(withIndex)
}

func (s *supporter) Manager(handler idxmgmt.ClientHandler, assets idxmgmt.Asseter) idxmgmt.Manager {
	return &manager{
		Manager: s.Supporter.Manager(handler, assets),
		support: s,
		handler: handler,
		assets:  assets,
	}
}

type manager struct {
	idxmgmt.Manager
	support *supporter
	handler idxmgmt.ClientHandler
	assets  idxmgmt.Asseter
}

// Setup runs libbeat's index management, then installs the active
// indicators where the template goes to Elasticsearch. `setup` passes
// LoadModeOverwrite, which replaces them. A running Beat passes
// LoadModeEnabled, which only creates what is missing and logs a failure
// instead of stopping the output, because the data stream works without
// them.
func (m *manager) Setup(templateMode, ilmMode idxmgmt.LoadMode) error {
	if err := m.Manager.Setup(templateMode, ilmMode); err != nil {
		return err
	}
	s := m.support
	if !s.cfg.ActiveIndicators.Enabled || !s.templateEnabled || !m.handler.IsElasticsearch() {
		return nil
	}
	if templateMode == idxmgmt.LoadModeDisabled || s.output.Name() != "elasticsearch" {
		return nil
	}
	overwrite := templateMode >= idxmgmt.LoadModeOverwrite
	err := m.installActiveIndicators(overwrite)
	if err != nil && !overwrite {
		s.log.Errorw("could not install the active indicators index and transform; the data stream still receives documents. Run `tibeat setup --index-management` to retry", "error", err)
		return nil
	}
	return err
}

// installActiveIndicators opens its own connection from the output settings:
// libbeat does not hand the connection of the index manager to the manager.
func (m *manager) installActiveIndicators(overwrite bool) error {
	s := m.support
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn, err := eslegclient.NewConnectedClient(ctx, s.output.Config(), s.info.Beat, s.log)
	if err != nil {
		return err
	}
	defer conn.Close()

	assets, err := NewActiveIndicatorAssets(s.info, conn.GetVersion(), conn.IsServerless(), m.assets.Fields(s.info.Beat))
	if err != nil {
		return err
	}
	if err := InstallActiveIndicators(conn, assets, overwrite, s.log); err != nil {
		return fmt.Errorf("active indicators: %w", err)
	}
	return nil
}
