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

// ECSVersion is the version of the Elastic Common Schema whose fields and
// values the documents follow. libbeat's own ecs.version is 8.0.0, but the
// STIX mapping follows ECS 9, for example in threat.indicator.x509.
const ECSVersion = "9.0.0"

// Processing returns tibeat's processing.SupportFactory: libbeat's default
// (host.*, agent.*) plus ecs.version and DataStreamFields. libbeat adds these
// built-in fields without overwriting, so an input that sets
// data_stream.namespace in its fields (with fields_under_root) keeps it.
func Processing() processing.SupportFactory {
	return func(info beat.Info, log *logp.Logger, root *conf.C) (processing.Supporter, error) {
		cfg, err := ReadConfig(root)
		if err != nil {
			return nil, err
		}
		factory := processing.MakeDefaultSupport(true, nil,
			processing.WithFields(mapstr.M{"ecs": mapstr.M{"version": ECSVersion}}),
			processing.WithHost,
			processing.WithAgentMeta(),
			processing.WithFields(DataStreamFields(cfg.DataStream.Namespace)),
		)
		return factory(info, log, root)
	}
}
