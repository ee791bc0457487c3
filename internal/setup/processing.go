package setup

import (
	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/publisher/processing"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/mapstr"
)

// DataStreamFields returns the fields every document gets: data_stream.*
// and event.dataset, which must match the data stream the document is
// written to (Elasticsearch maps data_stream.* as constant_keyword).
func DataStreamFields(namespace string) mapstr.M {
	return mapstr.M{
		"data_stream": mapstr.M{
			"type":      DataStreamType,
			"dataset":   Dataset,
			"namespace": namespace,
		},
		"event": mapstr.M{"dataset": Dataset},
	}
}

// Processing returns tibeat's processing.SupportFactory: libbeat's default
// (ecs.version, host.*, agent.*) plus DataStreamFields. libbeat adds these
// built-in fields without overwriting, so an input that sets
// data_stream.namespace in its fields (with fields_under_root) keeps it.
func Processing() processing.SupportFactory {
	return func(info beat.Info, log *logp.Logger, root *conf.C) (processing.Supporter, error) {
		cfg, err := ReadConfig(root)
		if err != nil {
			return nil, err
		}
		factory := processing.MakeDefaultSupport(true, nil,
			processing.WithECS,
			processing.WithHost,
			processing.WithAgentMeta(),
			processing.WithFields(DataStreamFields(cfg.DataStream.Namespace)),
		)
		return factory(info, log, root)
	}
}
