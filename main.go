// Command tibeat collects STIX threat intelligence and ships it as ECS
// documents through libbeat's outputs.
package main

import (
	_ "embed"
	"os"

	"github.com/elastic/beats/v7/libbeat/asset"

	"github.com/tibeat/tibeat/cmd"
)

// fieldsYAML describes every field tibeat writes. libbeat builds the index
// template and `export template` from it.
//
//go:embed _meta/fields.yml
var fieldsYAML string

func main() {
	if err := registerFields(); err != nil {
		os.Stderr.WriteString("tibeat: " + err.Error() + "\n")
		os.Exit(1)
	}
	if err := cmd.RootCmd().Execute(); err != nil {
		os.Exit(1)
	}
}

// registerFields hands fields.yml to libbeat's asset registry, which expects
// the content in its own compressed encoding.
func registerFields() error {
	encoded, err := asset.EncodeData(fieldsYAML)
	if err != nil {
		return err
	}
	return asset.SetFields(cmd.Name, "fields.yml", asset.BeatFieldsPri, func() string { return encoded })
}
