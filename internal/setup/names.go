// Package setup holds what tibeat installs in Elasticsearch and Kibana, and
// the libbeat settings that make documents land where those assets expect
// them: the data stream logs-ti_tibeat.indicator-<namespace>, its index
// template, ILM policy and ingest pipeline, and the transform that keeps one
// active document per STIX indicator behind an alias.
//
// The names follow Elastic's data stream naming scheme
// (<type>-<dataset>-<namespace>) with a dataset starting with "ti_", so
// that Elastic Security's default threat intelligence index pattern,
// logs-ti_*, finds the documents.
package setup

const (
	// DataStreamType is the data_stream.type of every document.
	DataStreamType = "logs"
	// Dataset is the data_stream.dataset and event.dataset of every
	// document.
	Dataset = "ti_tibeat.indicator"
	// DefaultNamespace is the data_stream.namespace used when
	// tibeat.data_stream.namespace is not set.
	DefaultNamespace = "default"

	// TemplateName is the index template's name. libbeat creates a data
	// stream named after the template when it loads it, so the name is
	// that of the default data stream rather than the dataset alone,
	// which no template would match.
	TemplateName = DataStreamType + "-" + Dataset + "-" + DefaultNamespace
	// TemplatePattern matches the data streams of every namespace.
	TemplatePattern = DataStreamType + "-ti_tibeat.*-*"
	// PolicyName is the ILM policy of the data streams' backing indices.
	PolicyName = DataStreamType + "-" + Dataset
	// CustomPipeline is the pipeline a user may create to change documents
	// after tibeat's pipeline ran. tibeat never creates or overwrites it.
	CustomPipeline = DataStreamType + "-" + Dataset + "@custom"

	// LatestAlias is the alias of the index holding one document per
	// active STIX indicator. Indicator Match rules should query it.
	LatestAlias = DataStreamType + "-ti_tibeat_latest.indicator"
	// LatestIndex is the transform's destination index behind LatestAlias.
	LatestIndex = DataStreamType + "-ti_tibeat_latest.dest_indicator-1"
	// LatestTemplateName is the index template of LatestIndex. Without it
	// the built-in logs-*-* template would turn the index into a data
	// stream, which a transform cannot write to.
	LatestTemplateName = DataStreamType + "-ti_tibeat_latest.dest_indicator"
	// LatestTemplatePattern matches LatestIndex and the indices of later
	// transform versions.
	LatestTemplatePattern = DataStreamType + "-ti_tibeat_latest.dest_indicator-*"
	// LatestTemplatePriority lies above the built-in logs template (100)
	// and tibeat's own data stream template (150 by default).
	LatestTemplatePriority = 250
	// TransformID names the latest transform. Transform ids allow only
	// lowercase letters, digits, hyphens and underscores.
	TransformID = "logs-ti_tibeat-latest_indicator"

	// SourceIndexPattern is what the transform reads: the data streams of
	// every namespace.
	SourceIndexPattern = DataStreamType + "-" + Dataset + "-*"

	// DataViewPattern is the Kibana data view the dashboards use. It
	// matches the data streams but not LatestIndex, whose name continues
	// with "_latest" instead of ".".
	DataViewPattern = DataStreamType + "-ti_tibeat.*"
)

// DataStreamName returns the data stream documents of a namespace go to.
func DataStreamName(namespace string) string {
	return DataStreamType + "-" + Dataset + "-" + namespace
}

// PipelineName returns the name of the data stream's default ingest pipeline
// for a tibeat version. The version is part of the name so that an upgrade
// installs its pipeline beside the old one and switches the template over.
func PipelineName(version string) string {
	return DataStreamType + "-" + Dataset + "-" + version
}

// PresetPipelineName returns the name of a feed preset's pipeline. The
// default pipeline calls it for documents whose event.module is module.
func PresetPipelineName(version, module string) string {
	return PipelineName(version) + "-" + module
}

// LatestPipelineName returns the name of the pipeline the transform writes
// through into LatestIndex.
func LatestPipelineName(version string) string {
	return DataStreamType + "-ti_tibeat_latest.indicator-" + version
}

// IndexFormat is the index format string of the Elasticsearch output when
// the user sets none: the data stream named by the document's own
// data_stream fields, falling back to the defaults when a processor
// removed them.
func IndexFormat(namespace string) string {
	return "%{[data_stream.type]:" + DataStreamType + "}-" +
		"%{[data_stream.dataset]:" + Dataset + "}-" +
		"%{[data_stream.namespace]:" + namespace + "}"
}

// DefaultSearchFields are the template's index.query.default_field: what a
// query without a field name, such as an IP address typed into Kibana's
// search bar, searches. libbeat lists only fields marked default_field in
// fields.yml, and tibeat's fields.yml marks none.
var DefaultSearchFields = []string{
	"message",
	"tags",
	"error.message",
	"threat.feed.name",
	"threat.indicator.name",
	"threat.indicator.type",
	"threat.indicator.description",
	"threat.indicator.email.address",
	"threat.indicator.file.name",
	"threat.indicator.file.hash.*",
	"threat.indicator.url.original",
	"threat.indicator.url.domain",
	"threat.indicator.registry.path",
	"threat.technique.id",
	"related.hash",
	"related.hosts",
	"related.user",
	"stix.id",
	"stix.name",
	"stix.description",
	"stix.pattern",
	"stix.value",
	"stix.labels",
	"stix.observables.value",
}
