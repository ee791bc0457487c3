package setup

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/template"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/mapstr"
	"github.com/elastic/elastic-agent-libs/version"
)

// Transform settings. Elasticsearch rejects a retention max_age below 60s,
// so an expired indicator leaves the active index between 60 seconds and
// 60 seconds plus one checkpoint after its expiration date.
const (
	transformFrequency = "1m"
	transformSyncDelay = "60s"
	retentionMaxAge    = "60s"
)

// LatestTemplate returns the index template of the transform's destination
// index: the data stream template's mappings, without data_stream, since the
// destination is a plain index.
func LatestTemplate(info beat.Info, esVersion version.V, isServerless bool, fields []byte) (mapstr.M, error) {
	cfg := template.DefaultConfig(info)
	cfg.Name = LatestTemplateName
	cfg.Pattern = LatestTemplatePattern
	cfg.Priority = LatestTemplatePriority
	tmpl, err := template.New(isServerless, info.Version, info.Beat, info.ElasticLicensed, esVersion, cfg, false, info.Logger)
	if err != nil {
		return nil, err
	}
	body, err := tmpl.LoadBytes(fields)
	if err != nil {
		return nil, err
	}
	delete(body, "data_stream")
	body["_meta"] = managedMeta(info.Version)
	widenConstantKeywords(body)
	return body, nil
}

// widenConstantKeywords maps every constant_keyword field as keyword. The
// destination index collects the documents of every namespace, and a
// constant_keyword without a value takes the first document's value and
// rejects every document with another.
func widenConstantKeywords(node any) {
	switch m := node.(type) {
	case mapstr.M:
		widenConstantKeywords(map[string]any(m))
	case map[string]any:
		if m["type"] == "constant_keyword" {
			m["type"] = "keyword"
		}
		for _, v := range m {
			widenConstantKeywords(v)
		}
	case []any:
		for _, v := range m {
			widenConstantKeywords(v)
		}
	}
}

// LatestIndexBody creates the destination index with the alias rules and
// users query.
func LatestIndexBody() map[string]any {
	return map[string]any{
		"aliases": map[string]any{LatestAlias: map[string]any{}},
	}
}

// RevisionDateField orders the documents of one indicator: its STIX
// modified time plus one nanosecond per context revision (see the
// stix_context_revision processor). It is a date_nanos field.
const RevisionDateField = "stix.ioc_revision_date"

// Transform returns the latest transform. It keeps, per stix.id, the
// indicator document with the greatest stix.ioc_revision_date: the newest
// STIX version, and of its copies the one with the newest context,
// whatever order they arrived in. Documents leave the destination once
// stix.ioc_expiration_date has passed (the retention policy), and revoked
// ones right after the checkpoint that wrote them (LatestPipeline sets their
// expiration date to the revocation).
//
// The source query keeps every indicator document, STIX indicators and
// cyber-observables or observed-data published as indicators alike, and
// every version of each: filtering out revoked or expired versions would
// let an older, still active version win. Documents written before
// stix.ioc_revision_date existed have no value for it and sort after every
// document that has one, which is Elasticsearch's default for a missing
// sort value.
func Transform(version string) map[string]any {
	return map[string]any{
		"description": "tibeat active indicators: the newest version of each STIX indicator, removed once revoked or expired",
		"source": map[string]any{
			"index": []string{SourceIndexPattern},
			"query": map[string]any{"bool": map[string]any{"filter": []any{
				map[string]any{"term": map[string]any{"event.type": "indicator"}},
				map[string]any{"exists": map[string]any{"field": "stix.id"}},
			}}},
		},
		"dest": map[string]any{
			"index":    LatestIndex,
			"pipeline": LatestPipelineName(version),
		},
		"latest": map[string]any{
			"unique_key": []string{"stix.id"},
			"sort":       RevisionDateField,
		},
		"sync": map[string]any{"time": map[string]any{
			"field": "event.ingested",
			"delay": transformSyncDelay,
		}},
		"retention_policy": map[string]any{"time": map[string]any{
			"field":   "stix.ioc_expiration_date",
			"max_age": retentionMaxAge,
		}},
		"frequency": transformFrequency,
		// Unattended transforms start before their source data streams
		// exist and retry failures instead of stopping (Elasticsearch 8.5
		// and later).
		"settings": map[string]any{"unattended": true},
		"_meta":    managedMeta(version),
	}
}

// ActiveIndicatorAssets is everything the active indicators need.
type ActiveIndicatorAssets struct {
	Pipeline  Pipeline
	Template  mapstr.M
	Transform map[string]any
}

// NewActiveIndicatorAssets builds the assets for a Beat and an Elasticsearch
// version.
func NewActiveIndicatorAssets(info beat.Info, esVersion version.V, isServerless bool, fields []byte) (ActiveIndicatorAssets, error) {
	tmpl, err := LatestTemplate(info, esVersion, isServerless, fields)
	if err != nil {
		return ActiveIndicatorAssets{}, fmt.Errorf("build the %s index template: %w", LatestTemplateName, err)
	}
	return ActiveIndicatorAssets{
		Pipeline:  LatestPipeline(info.Version),
		Template:  tmpl,
		Transform: Transform(info.Version),
	}, nil
}

// InstallActiveIndicators loads the destination pipeline and index
// template, creates the destination index with its alias, and creates and
// starts the transform, in that order because each step needs the one
// before. Without overwrite, existing objects are kept. With overwrite they
// are replaced, and the transform is stopped and created again, so it reads
// its source from the start.
func InstallActiveIndicators(c Client, assets ActiveIndicatorAssets, overwrite bool, log *logp.Logger) error {
	if err := LoadPipelines(c, []Pipeline{assets.Pipeline}, overwrite, log); err != nil {
		return err
	}
	if err := loadLatestTemplate(c, assets.Template, overwrite, log); err != nil {
		return err
	}
	if err := ensureLatestIndex(c, log); err != nil {
		return err
	}
	return ensureTransform(c, assets.Transform, overwrite, log)
}

func loadLatestTemplate(c Client, body mapstr.M, overwrite bool, log *logp.Logger) error {
	path := "/_index_template/" + LatestTemplateName
	if !overwrite {
		found, err := exists(c, http.MethodHead, path)
		if err != nil {
			return fmt.Errorf("check index template %s: %w", LatestTemplateName, err)
		}
		if found {
			return nil
		}
	}
	if _, err := put(c, http.MethodPut, path, nil, body); err != nil {
		return fmt.Errorf("load index template %s: %w", LatestTemplateName, err)
	}
	log.Infow("loaded index template", "template", LatestTemplateName)
	return nil
}

// ensureLatestIndex creates the destination index with its alias, or adds
// the alias to an index that exists, which is idempotent.
func ensureLatestIndex(c Client, log *logp.Logger) error {
	path := "/" + url.PathEscape(LatestIndex)
	found, err := exists(c, http.MethodHead, path)
	if err != nil {
		return fmt.Errorf("check index %s: %w", LatestIndex, err)
	}
	if !found {
		if _, err := put(c, http.MethodPut, path, nil, LatestIndexBody()); err != nil {
			return fmt.Errorf("create index %s: %w", LatestIndex, err)
		}
		log.Infow("created the active indicators index", "index", LatestIndex, "alias", LatestAlias)
		return nil
	}
	aliasPath := path + "/_alias/" + url.PathEscape(LatestAlias)
	if _, err := put(c, http.MethodPut, aliasPath, nil, nil); err != nil {
		return fmt.Errorf("add alias %s to index %s: %w", LatestAlias, LatestIndex, err)
	}
	return nil
}

func ensureTransform(c Client, body map[string]any, overwrite bool, log *logp.Logger) error {
	path := "/_transform/" + TransformID
	found, err := exists(c, http.MethodGet, path)
	if err != nil {
		return fmt.Errorf("check transform %s: %w", TransformID, err)
	}
	if found && !overwrite {
		return nil
	}
	if found {
		stop := map[string]string{"force": "true", "wait_for_completion": "true"}
		if _, err := put(c, http.MethodPost, path+"/_stop", stop, nil); err != nil {
			return fmt.Errorf("stop transform %s before replacing it: %w", TransformID, err)
		}
		if _, err := put(c, http.MethodDelete, path, nil, nil); err != nil {
			return fmt.Errorf("delete transform %s before replacing it: %w", TransformID, err)
		}
	}
	// Validation is deferred because the source data streams may not exist
	// yet; an unattended transform waits for them.
	if _, err := put(c, http.MethodPut, path, map[string]string{"defer_validation": "true"}, body); err != nil {
		return fmt.Errorf("create transform %s: %w", TransformID, err)
	}
	status, err := put(c, http.MethodPost, path+"/_start", nil, nil)
	if err != nil && status != http.StatusConflict {
		return fmt.Errorf("start transform %s: %w", TransformID, err)
	}
	log.Infow("created and started the active indicators transform", "transform", TransformID, "alias", LatestAlias)
	return nil
}
