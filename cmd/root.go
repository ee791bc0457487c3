// Package cmd builds tibeat's root command from libbeat: run, setup, test,
// export, keystore, version and modules, with --once added to run.
package cmd

import (
	"flag"

	"github.com/spf13/pflag"

	"github.com/elastic/beats/v7/libbeat/cfgfile"
	libcmd "github.com/elastic/beats/v7/libbeat/cmd"
	"github.com/elastic/beats/v7/libbeat/cmd/instance"
	"github.com/elastic/beats/v7/libbeat/version"
	conf "github.com/elastic/elastic-agent-libs/config"

	"github.com/tibeat/tibeat/beater"
	"github.com/tibeat/tibeat/internal/runmode"
	"github.com/tibeat/tibeat/internal/setup"

	// Outputs and the processors users can list in their configuration.
	_ "github.com/elastic/beats/v7/libbeat/processors/timestamp"
	_ "github.com/elastic/beats/v7/libbeat/publisher/includes"
	_ "github.com/tibeat/tibeat/processors/stix"
)

// Name is the beat name: the configuration namespace (tibeat.*) and the
// registry folder.
const Name = "tibeat"

// Settings returns the libbeat settings of tibeat.
func Settings() instance.Settings {
	runFlags := pflag.NewFlagSet(Name, pflag.ExitOnError)
	runFlags.AddGoFlag(flag.CommandLine.Lookup("once"))
	return instance.Settings{
		Name:            Name,
		RunFlags:        runFlags,
		HasDashboards:   true,
		IndexManagement: setup.IndexManagement(),
		Processing:      setup.Processing(),
		ConfigOverrides: []cfgfile.ConditionalOverride{
			setupDefaults(version.GetDefaultVersion()),
			onceQueueOverride(),
		},
	}
}

// RootCmd returns the tibeat command line.
func RootCmd() *libcmd.BeatsRootCmd {
	settings := Settings()
	root := libcmd.GenRootCmdWithSettings(beater.New, settings)
	root.AddCommand(libcmd.GenModulesCmd(Name, "", modulesManager))
	root.ExportCmd.AddCommand(genExportPipelinesCmd(settings))
	return root
}

// setupDefaults replaces libbeat's defaults that assume an index named
// tibeat-<version> with the names of tibeat's data stream, template, policy,
// pipeline and data view. libbeat merges override configurations under the
// user's files and -E flags, so any of these the user sets wins.
func setupDefaults(beatVersion string) cfgfile.ConditionalOverride {
	return cfgfile.ConditionalOverride{
		Check: func(*conf.C) bool { return true },
		Config: conf.MustNewConfigFrom(map[string]any{
			"setup.template.name":                               setup.TemplateName,
			"setup.template.pattern":                            setup.TemplatePattern,
			"setup.template.settings.index.default_pipeline":    setup.PipelineName(beatVersion),
			"setup.template.settings.index.query.default_field": setup.DefaultSearchFields,
			"setup.ilm.policy_name":                             setup.PolicyName,
			// Without enabled, the section below would load dashboards on
			// every run; setup and setup.dashboards.enabled turn it on.
			"setup.dashboards.enabled":   false,
			"setup.dashboards.index":     setup.DataViewPattern,
			"setup.dashboards.directory": "${path.home}/_meta/kibana",
		}),
	}
}

// onceQueueOverride makes the memory queue hand events to the output as soon
// as they arrive when --once is given. With libbeat's default flush timeout
// (10s) the last partial batch would wait that long before tibeat could exit.
// A queue the user configured is left alone.
func onceQueueOverride() cfgfile.ConditionalOverride {
	return cfgfile.ConditionalOverride{
		Check: func(cfg *conf.C) bool {
			return runmode.Once() && !cfg.HasField("queue")
		},
		Config: conf.MustNewConfigFrom(map[string]any{
			"queue.mem.flush.timeout": "0s",
		}),
	}
}
