package beater

import (
	"fmt"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/common/fmtstr"
	"github.com/elastic/beats/v7/libbeat/processors"
	"github.com/elastic/beats/v7/libbeat/processors/add_formatted_index"
	"github.com/elastic/beats/v7/libbeat/publisher/pipetool"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/mapstr"

	stixproc "github.com/tibeat/tibeat/processors/stix"
)

// inputProcessing holds the settings that shape the events of one input,
// whatever its type, with the names Filebeat uses.
type inputProcessing struct {
	mapstr.EventMetadata `config:",inline"`       // fields, fields_under_root, tags
	Type                 string                   `config:"type"`
	Processors           processors.PluginConfig  `config:"processors"`
	KeepNull             bool                     `config:"keep_null"`
	Pipeline             string                   `config:"pipeline"`
	Index                fmtstr.EventFormatString `config:"index"`
	STIX                 *conf.C                  `config:"stix"`
	PublisherPipeline    struct {
		DisableHost bool `config:"disable_host"`
	} `config:"publisher_pipeline"`
}

// stixConfig merges tibeat.stix with the input's own stix settings, the
// input winning.
func stixConfig(defaults, input *conf.C) (stixproc.Config, error) {
	cfg := stixproc.DefaultConfig()
	for _, c := range []*conf.C{defaults, input} {
		if c == nil {
			continue
		}
		if err := c.Unpack(&cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// processingEditor returns the pipeline client settings of one input. The
// processors run in this order: the index setting, decode_stix, stix_to_ecs,
// stix_context_revision when stixContext is set, then the user's
// processors, so that user processors see ECS documents.
//
// With stixContext set, the STIX processors share its context index, and an
// indicator republished for the input goes through these processors again.
func processingEditor(info beat.Info, stixDefaults, inputCfg *conf.C, stixContext *stixproc.Context) (pipetool.ConfigEditor, error) {
	var settings inputProcessing
	if err := inputCfg.Unpack(&settings); err != nil {
		return nil, err
	}
	stixCfg, err := stixConfig(stixDefaults, settings.STIX)
	if err != nil {
		return nil, fmt.Errorf("stix: %w", err)
	}
	if stixContext != nil {
		id, _ := inputCfg.String("id", -1)
		stixCfg = stixCfg.WithContext(stixContext, id)
	}
	userProcessors, err := processors.New(settings.Processors, info.Logger)
	if err != nil {
		return nil, fmt.Errorf("processors: %w", err)
	}
	var indexProcessor beat.Processor
	if !settings.Index.IsEmpty() {
		format, err := fmtstr.NewTimestampFormatString(&settings.Index, fmtstr.FieldsForBeat(info.Beat, info.Version))
		if err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		indexProcessor = add_formatted_index.New(format)
	}

	return func(client beat.ClientConfig) (beat.ClientConfig, error) {
		list := processors.NewList(info.Logger)
		if indexProcessor != nil {
			list.AddProcessor(indexProcessor)
		}
		list.AddProcessor(stixproc.NewDecoder(stixCfg, info.Logger))
		list.AddProcessor(stixproc.NewConverter(stixCfg, info.Logger))
		if revisions := stixproc.NewRevisions(stixCfg); revisions != nil {
			list.AddProcessor(revisions)
		}
		if client.Processing.Processor != nil {
			list.AddProcessor(client.Processing.Processor)
		}
		if userProcessors != nil {
			list.AddProcessors(*userProcessors)
		}

		meta := client.Processing.Meta.Clone()
		if settings.Pipeline != "" {
			meta["pipeline"] = settings.Pipeline
		}
		fields := client.Processing.Fields.Clone()
		if settings.Type != "" && !client.Processing.DisableType {
			fields["input"] = mapstr.M{"type": settings.Type}
		}

		client.Processing.EventMetadata = settings.EventMetadata
		client.Processing.Meta = meta
		client.Processing.Fields = fields
		client.Processing.Processor = list
		client.Processing.KeepNull = settings.KeepNull
		client.Processing.DisableHost = settings.PublisherPipeline.DisableHost
		return client, nil
	}, nil
}
