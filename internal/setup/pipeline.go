package setup

// Pipeline is an ingest pipeline tibeat installs: its name and the body of
// PUT _ingest/pipeline/<name>.
type Pipeline struct {
	Name string
	Body map[string]any
}

// pipelineErrorTag marks documents that an ingest processor failed on. The
// converter also writes error.message (for patterns that do not parse), so
// the tag is what tells pipeline failures apart.
const pipelineErrorTag = "pipeline_error"

// DefaultPipeline returns the data stream's default pipeline. It stamps
// event.ingested, which the latest transform uses to find new documents,
// hands documents of a feed preset to that preset's pipeline, then to the
// user's @custom pipeline. Both calls ignore a pipeline that does not exist,
// so neither has to be installed. A failing processor does not drop the
// document: on_failure records the failure and the document is indexed.
func DefaultPipeline(version string) Pipeline {
	return Pipeline{
		Name: PipelineName(version),
		Body: map[string]any{
			"description": "tibeat: STIX threat intelligence documents. Sets event.ingested, runs the feed preset's pipeline and " + CustomPipeline + ".",
			"processors": []any{
				map[string]any{"set": map[string]any{
					"tag":   "set_event_ingested",
					"field": "event.ingested",
					"value": "{{{_ingest.timestamp}}}",
				}},
				map[string]any{"pipeline": map[string]any{
					"tag":                     "call_preset_pipeline",
					"if":                      "ctx.event?.module instanceof String",
					"name":                    PipelineName(version) + "-{{{event.module}}}",
					"ignore_missing_pipeline": true,
				}},
				map[string]any{"pipeline": map[string]any{
					"tag":                     "call_custom_pipeline",
					"name":                    CustomPipeline,
					"ignore_missing_pipeline": true,
				}},
			},
			"on_failure": failureHandlers(),
			"_meta":      managedMeta(version),
		},
	}
}

// LatestPipeline returns the pipeline the transform writes through. A
// revoked indicator must leave the active index even when its valid_until
// lies in the future, so the pipeline moves its expiration date to the
// revocation (its modified time). The transform's retention policy then
// deletes it like any expired indicator.
func LatestPipeline(version string) Pipeline {
	const revoked = "ctx.stix?.revoked == true"
	return Pipeline{
		Name: LatestPipelineName(version),
		Body: map[string]any{
			"description": "tibeat: marks revoked indicators as expired at their revocation, so that the " + TransformID + " transform's retention policy removes them from " + LatestAlias + ".",
			"processors": []any{
				map[string]any{"set": map[string]any{
					"tag":       "expire_revoked_at_modified",
					"if":        revoked + " && ctx.threat?.indicator?.modified_at != null",
					"field":     "stix.ioc_expiration_date",
					"copy_from": "threat.indicator.modified_at",
				}},
				map[string]any{"set": map[string]any{
					"tag":   "set_revoked_reason",
					"if":    revoked,
					"field": "stix.ioc_expiration_reason",
					"value": "revoked",
				}},
			},
			"on_failure": failureHandlers(),
			"_meta":      managedMeta(version),
		},
	}
}

// failureHandlers keep a document whose processing failed and record why,
// in the wording Elastic's integrations use.
func failureHandlers() []any {
	return []any{
		map[string]any{"append": map[string]any{
			"field": "error.message",
			"value": "Processor {{{_ingest.on_failure_processor_type}}} with tag {{{_ingest.on_failure_processor_tag}}} in pipeline {{{_ingest.on_failure_pipeline}}} failed with message: {{{_ingest.on_failure_message}}}",
		}},
		map[string]any{"append": map[string]any{
			"field":            "tags",
			"value":            pipelineErrorTag,
			"allow_duplicates": false,
		}},
	}
}

func managedMeta(version string) map[string]any {
	return map[string]any{"managed_by": "tibeat", "managed": true, "tibeat_version": version}
}
