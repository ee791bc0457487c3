package beater

import (
	"context"
	"fmt"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/esleg/eslegclient"
	"github.com/elastic/beats/v7/libbeat/outputs/elasticsearch"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"

	"github.com/tibeat/tibeat/internal/preset"
	"github.com/tibeat/tibeat/internal/setup"
)

// presets holds the feed presets enabled in modules.d.
type presets struct {
	loader   *preset.Loader
	filesets []*preset.Fileset
	inputs   []*conf.C
}

// enabledPresets reads modules.d and renders the inputs of every enabled
// preset.
func enabledPresets(b *beat.Beat) (*presets, error) {
	loader, err := preset.NewLoader(b.BeatConfig, b.Paths)
	if err != nil {
		return nil, err
	}
	filesets, err := loader.Enabled()
	if err != nil {
		return nil, fmt.Errorf("feed presets: %w", err)
	}
	p := &presets{loader: loader, filesets: filesets}
	for _, f := range filesets {
		input, err := f.InputConfig()
		if err != nil {
			return nil, fmt.Errorf("feed presets: %w", err)
		}
		p.inputs = append(p.inputs, input)
	}
	return p, nil
}

// pipelines returns the data stream's default pipeline and those of the
// enabled presets, or of every preset when all is set.
func (p *presets) pipelines(version string, all bool) ([]setup.Pipeline, error) {
	filesets := p.filesets
	if all {
		var err error
		if filesets, err = p.loader.All(); err != nil {
			return nil, err
		}
	}
	list, err := preset.Pipelines(version, filesets)
	if err != nil {
		return nil, err
	}
	return append([]setup.Pipeline{setup.DefaultPipeline(version)}, list...), nil
}

// registerPipelineLoading makes `setup --pipelines` load (and overwrite) the
// ingest pipelines. It also makes a running Beat with the Elasticsearch
// output load the missing ones each time it connects, before it sends
// documents, because the index template names the default pipeline and
// Elasticsearch rejects every document while that pipeline does not exist.
func registerPipelineLoading(b *beat.Beat, p *presets, log *logp.Logger) error {
	version := b.Info.Version
	b.OverwritePipelinesCallback = func(esConfig *conf.C) error {
		all, _ := b.BeatConfig.Bool("config.modules.enable_all_filesets", -1)
		list, err := p.pipelines(version, all)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		conn, err := eslegclient.NewConnectedClient(ctx, esConfig, b.Info.Beat, log)
		if err != nil {
			return err
		}
		defer conn.Close()
		return setup.LoadPipelines(conn, list, true, log)
	}

	if b.InSetupCmd || b.Config == nil || b.Config.Output.Name() != "elasticsearch" {
		return nil
	}
	list, err := p.pipelines(version, false)
	if err != nil {
		return err
	}
	_, err = elasticsearch.RegisterConnectCallback(func(conn *eslegclient.Connection, _ *logp.Logger) error {
		return setup.LoadPipelines(conn, list, false, log)
	})
	return err
}
