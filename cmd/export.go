package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/elastic/beats/v7/libbeat/cmd/instance"

	"github.com/tibeat/tibeat/internal/preset"
	"github.com/tibeat/tibeat/internal/setup"
)

// genExportPipelinesCmd adds `export pipelines`, which libbeat's export
// lacks: it prints what `setup --pipelines` and `setup --index-management`
// load into Elasticsearch as ingest pipelines.
func genExportPipelinesCmd(settings instance.Settings) *cobra.Command {
	cmd := &cobra.Command{
		Use:          "pipelines",
		SilenceUsage: true,
		Short:        "Export the ingest pipelines to stdout, in Kibana Dev Tools syntax",
		Long: "Prints the data stream's default pipeline, the active indicators pipeline and the pipelines of the enabled feed presets, " +
			"each as a PUT _ingest/pipeline/<name> request followed by its JSON body. With --dir, writes <dir>/ingest_pipeline/<name>.json instead.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, _ := cmd.Flags().GetString("dir")
			all, _ := cmd.Flags().GetBool("enable-all-filesets")
			b, err := instance.NewInitializedBeat(settings)
			if err != nil {
				return fmt.Errorf("initialize tibeat: %w", err)
			}
			loader, err := preset.NewLoader(b.Beat.BeatConfig, b.Paths)
			if err != nil {
				return err
			}
			pipelines, err := allPipelines(b.Info.Version, loader, all)
			if err != nil {
				return err
			}
			if dir != "" {
				return writePipelines(dir, pipelines)
			}
			return printPipelines(cmd.OutOrStdout(), pipelines)
		},
	}
	cmd.Flags().String("dir", "", "Folder to write the pipelines to, one JSON file each. By default they go to stdout.")
	cmd.Flags().Bool("enable-all-filesets", false, "Include the pipelines of every feed preset, enabled or not")
	return cmd
}

// allPipelines lists every pipeline tibeat installs for a version.
func allPipelines(version string, loader *preset.Loader, all bool) ([]setup.Pipeline, error) {
	filesets, err := loader.Enabled()
	if all {
		filesets, err = loader.All()
	}
	if err != nil {
		return nil, err
	}
	presets, err := preset.Pipelines(version, filesets)
	if err != nil {
		return nil, err
	}
	list := []setup.Pipeline{setup.DefaultPipeline(version), setup.LatestPipeline(version)}
	return append(list, presets...), nil
}

func printPipelines(w io.Writer, pipelines []setup.Pipeline) error {
	for _, p := range pipelines {
		body, err := encode(p.Body)
		if err != nil {
			return fmt.Errorf("encode pipeline %s: %w", p.Name, err)
		}
		if _, err := fmt.Fprintf(w, "PUT _ingest/pipeline/%s\n%s\n", p.Name, body); err != nil {
			return err
		}
	}
	return nil
}

func writePipelines(dir string, pipelines []setup.Pipeline) error {
	target := filepath.Join(dir, "ingest_pipeline")
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	for _, p := range pipelines {
		body, err := encode(p.Body)
		if err != nil {
			return fmt.Errorf("encode pipeline %s: %w", p.Name, err)
		}
		path := filepath.Join(target, p.Name+".json")
		if err := os.WriteFile(path, body, 0o644); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "Wrote", path)
	}
	return nil
}

// encode writes indented JSON without escaping &, < and >, which painless
// conditions are full of.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
