package cmd

import (
	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/cfgfile"
	libcmd "github.com/elastic/beats/v7/libbeat/cmd"

	"github.com/tibeat/tibeat/internal/preset"
)

// modulesManager backs `tibeat modules list|enable|disable`: it renames
// files in the modules.d folder between <module>.yml and
// <module>.yml.disabled, as Filebeat does.
func modulesManager(b *beat.Beat) (libcmd.ModulesManager, error) {
	loader, err := preset.NewLoader(b.BeatConfig, b.Paths)
	if err != nil {
		return nil, err
	}
	return cfgfile.NewGlobManager(loader.Glob, ".yml", ".disabled", b.Info.Logger)
}
