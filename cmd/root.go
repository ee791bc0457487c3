// Package cmd builds tibeat's root command from libbeat: run, setup, test,
// export, keystore and version, with --once added to run.
package cmd

import (
	"flag"

	"github.com/spf13/pflag"

	"github.com/elastic/beats/v7/libbeat/cfgfile"
	libcmd "github.com/elastic/beats/v7/libbeat/cmd"
	"github.com/elastic/beats/v7/libbeat/cmd/instance"
	conf "github.com/elastic/elastic-agent-libs/config"

	"github.com/tibeat/tibeat/beater"
	"github.com/tibeat/tibeat/internal/runmode"

	// Outputs and the processors users can list in their configuration.
	_ "github.com/elastic/beats/v7/libbeat/processors/timestamp"
	_ "github.com/elastic/beats/v7/libbeat/publisher/includes"
	_ "github.com/tibeat/tibeat/processors/stix"
)

// Name is the beat name: the configuration namespace (tibeat.*), the
// registry folder and the default index prefix.
const Name = "tibeat"

// Settings returns the libbeat settings of tibeat.
func Settings() instance.Settings {
	runFlags := pflag.NewFlagSet(Name, pflag.ExitOnError)
	runFlags.AddGoFlag(flag.CommandLine.Lookup("once"))
	return instance.Settings{
		Name:            Name,
		RunFlags:        runFlags,
		ConfigOverrides: []cfgfile.ConditionalOverride{onceQueueOverride()},
	}
}

// RootCmd returns the tibeat command line.
func RootCmd() *libcmd.BeatsRootCmd {
	return libcmd.GenRootCmdWithSettings(beater.New, Settings())
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
