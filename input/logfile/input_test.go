package logfile

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/feature"
	"github.com/elastic/elastic-agent-libs/logp"

	"github.com/tibeat/tibeat/input/internal/inputtest"
)

// beatEnv is one start of the Beat with the logfile plugin.
type beatEnv struct {
	*inputtest.Beat
	t *testing.T
}

func startBeat(t *testing.T, registryDir string) *beatEnv {
	t.Helper()
	return &beatEnv{Beat: inputtest.StartBeat(t, registryDir, logp.NewNopLogger(), Plugin), t: t}
}

// runOnce runs the input in --once mode and returns what it published.
func (e *beatEnv) runOnce(settings map[string]any, autoACK bool) *inputtest.Pipeline {
	e.t.Helper()
	pipeline := &inputtest.Pipeline{AutoACK: autoACK}
	if err := e.RunOnce(settings, pipeline); err != nil {
		e.t.Fatal(err)
	}
	return pipeline
}

func copyFile(t *testing.T, from, to string) []byte {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return data
}

func TestPlugin(t *testing.T) {
	p := Plugin(logp.NewNopLogger(), nil)
	if p.Name != "logfile" || p.Stability != feature.Beta {
		t.Fatalf("plugin %q with stability %v, expected logfile and beta", p.Name, p.Stability)
	}
	m, ok := p.Manager.(*cursor.InputManager)
	if !ok || m.Type != "logfile" {
		t.Fatalf("manager %T, expected a cursor.InputManager of type logfile", p.Manager)
	}
}

func TestRunReadsEveryFileOnceAcrossRestarts(t *testing.T) {
	dataDir, registryDir := t.TempDir(), t.TempDir()
	sources := map[string]string{
		"bundle.json":       "../../tests/data/stix/unit42-playbooks/cryptoclippy.json",
		"bad-id.json":       "../../tests/cases/B26/bad-bundle-id.json",
		"array.json":        "../../tests/cases/B26/plain-array.json",
		"bare-object.json":  "../../tests/data/stix/oasis-examples/cti-stix2-json-schemas/interop-objectmarking-test.json",
		"indicators.ndjson": "../../tests/data/stix/ndjson/misp-stix-tests-stix21.ndjson",
	}
	expected := map[string][][]byte{} // path -> objects
	for name, from := range sources {
		path := filepath.Join(dataDir, name)
		expected[path] = expectedObjects(t, copyFile(t, from, path))
	}
	emotet, err := os.ReadFile("../../tests/data/stix/unit42-playbooks/emotet.json")
	if err != nil {
		t.Fatal(err)
	}
	gzPath := filepath.Join(dataDir, "emotet.json.gz")
	writeFile(t, gzPath, string(gzipBytes(t, emotet)))
	expected[gzPath] = expectedObjects(t, emotet)

	settings := map[string]any{"paths": []string{filepath.Join(dataDir, "*.json"), filepath.Join(dataDir, "*.ndjson"), filepath.Join(dataDir, "*.gz")}}

	env := startBeat(t, registryDir)
	first := env.runOnce(settings, true)
	env.Stop()

	byPath := map[string][]beat.Event{}
	for _, event := range first.Published() {
		path, err := event.Fields.GetValue("log.file.path")
		if err != nil {
			t.Fatalf("event without log.file.path: %v", event.Fields)
		}
		byPath[path.(string)] = append(byPath[path.(string)], event)
	}
	for path, objects := range expected {
		events := byPath[path]
		if len(events) != len(objects) {
			t.Fatalf("%s: %d events, encoding/json finds %d objects", path, len(events), len(objects))
		}
		for i, event := range events {
			message := event.Fields["message"].(string)
			if compact(t, []byte(message)) != compact(t, objects[i]) {
				t.Fatalf("%s: event %d has message %s, expected %s", path, i, message, objects[i])
			}
			offset, _ := event.Fields.GetValue("log.offset")
			if path != gzPath {
				data, _ := os.ReadFile(path)
				off := offset.(int64)
				if !bytes.Equal(data[off:off+int64(len(message))], []byte(message)) {
					t.Fatalf("%s: event %d log.offset %d does not point at its object", path, i, off)
				}
			}
		}
	}

	env = startBeat(t, registryDir)
	defer env.Stop()
	second := env.runOnce(settings, true)
	if n := len(second.Published()); n != 0 {
		t.Fatalf("second run with the same registry published %d events, expected none", n)
	}
}

func TestRunReadsUnacknowledgedEventsAgain(t *testing.T) {
	defer func(n int) { checkpointInterval = n }(checkpointInterval)
	checkpointInterval = 10

	for _, compressed := range []bool{false, true} {
		name := "plain"
		if compressed {
			name = "gzip"
		}
		t.Run(name, func(t *testing.T) {
			dataDir, registryDir := t.TempDir(), t.TempDir()
			var lines []string
			for i := range 95 {
				lines = append(lines, `{"type":"indicator","id":"indicator--`+strings.Repeat("0", 8)+`-0000-4000-8000-`+padNumber(i)+`"}`)
			}
			content := strings.Join(lines, "\n") + "\n"
			path := filepath.Join(dataDir, "feed.ndjson")
			if compressed {
				writeFile(t, path, string(gzipBytes(t, []byte(content))))
			} else {
				writeFile(t, path, content)
			}
			settings := map[string]any{"paths": []string{path}}

			// Nothing acknowledged: a restart reads everything again.
			env := startBeat(t, registryDir)
			if n := len(env.runOnce(settings, false).Published()); n != 95 {
				t.Fatalf("first run published %d events, expected 95", n)
			}
			env.Stop()

			// 35 acknowledged: the last update among them rode on object 30.
			env = startBeat(t, registryDir)
			run := env.runOnce(settings, false)
			if n := len(run.Published()); n != 95 {
				t.Fatalf("run without acknowledged state published %d events, expected 95", n)
			}
			run.ACK(35)
			env.Stop()

			env = startBeat(t, registryDir)
			defer env.Stop()
			replay := env.runOnce(settings, true).Published()
			if len(replay) != 65 {
				t.Fatalf("restart after 35 acknowledged events published %d, expected the 65 after object 30", len(replay))
			}
			if got := replay[0].Fields["message"]; got != lines[30] {
				t.Fatalf("restart began with %v, expected object 31 %s", got, lines[30])
			}
			wantOffset := int64(len(strings.Join(lines[:30], "\n")) + 1)
			if got, _ := replay[0].Fields.GetValue("log.offset"); got != wantOffset {
				t.Fatalf("restart began at log.offset %v, expected %d", got, wantOffset)
			}
		})
	}
}

func padNumber(i int) string {
	s := strings.Repeat("0", 12) + string(rune('0'+i/10)) + string(rune('0'+i%10))
	return s[len(s)-12:]
}

func TestRunReadsNewFilesAndAppendedLines(t *testing.T) {
	dataDir, registryDir := t.TempDir(), t.TempDir()
	first := filepath.Join(dataDir, "a.ndjson")
	writeFile(t, first, "{\"type\":\"x\",\"id\":\"x--1\"}\n{\"type\":\"x\",\"id\":\"x--2\"}\n")

	env := startBeat(t, registryDir)
	defer env.Stop()
	pipeline := &inputtest.Pipeline{AutoACK: true}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- env.Run(ctx, map[string]any{"paths": []string{filepath.Join(dataDir, "*.ndjson")}, "scan_frequency": "20ms"}, pipeline)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v", err)
		}
	}()

	waitForEvents(t, pipeline, 2)
	writeFile(t, filepath.Join(dataDir, "b.ndjson"), "{\"type\":\"y\",\"id\":\"y--1\"}\n")
	waitForEvents(t, pipeline, 3)

	f, err := os.OpenFile(first, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("{\"type\":\"x\",\"id\":\"x--3\"}\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	events := waitForEvents(t, pipeline, 4)

	want := []string{`{"type":"x","id":"x--1"}`, `{"type":"x","id":"x--2"}`, `{"type":"y","id":"y--1"}`, `{"type":"x","id":"x--3"}`}
	for i, w := range want {
		if got := events[i].Fields["message"]; got != w {
			t.Errorf("event %d is %v, expected %s", i, got, w)
		}
	}
	// Two more scans find nothing new.
	time.Sleep(60 * time.Millisecond)
	if n := len(pipeline.Published()); n != 4 {
		t.Fatalf("%d events after rescans, expected 4", n)
	}
}

func waitForEvents(t *testing.T, p *inputtest.Pipeline, n int) []beat.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if events := p.Published(); len(events) >= n {
			return events
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %d events, have %d", n, len(p.Published()))
	return nil
}

func TestRunFileIdentity(t *testing.T) {
	long := strings.Repeat("{\"type\":\"x\",\"id\":\"x--1\"}\n", 60) // 1500 bytes, over the fingerprint size

	tests := []struct {
		name   string
		change func(t *testing.T, path string) string // returns the file's new path
		events int
	}{
		{
			name: "renamed file is not read again",
			change: func(t *testing.T, path string) string {
				renamed := filepath.Join(filepath.Dir(path), "renamed.ndjson")
				if err := os.Rename(path, renamed); err != nil {
					t.Fatal(err)
				}
				return renamed
			},
			events: 0,
		},
		{
			name: "content replaced in place is read again",
			change: func(t *testing.T, path string) string {
				replaced := strings.Repeat("{\"type\":\"y\",\"id\":\"y--2\"}\n", 61)
				f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if _, err := f.WriteString(replaced); err != nil {
					t.Fatal(err)
				}
				return path
			},
			events: 61,
		},
		{
			name: "truncated file is read again",
			change: func(t *testing.T, path string) string {
				// The fingerprinted first KiB stays, so only the size shows the truncation.
				if err := os.Truncate(path, int64(len(long)-10*len(long)/60)); err != nil {
					t.Fatal(err)
				}
				return path
			},
			events: 50,
		},
		{
			name: "appended file is read from its offset",
			change: func(t *testing.T, path string) string {
				f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if _, err := f.WriteString("{\"type\":\"z\",\"id\":\"z--3\"}\n"); err != nil {
					t.Fatal(err)
				}
				return path
			},
			events: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dataDir, registryDir := t.TempDir(), t.TempDir()
			path := filepath.Join(dataDir, "feed.ndjson")
			writeFile(t, path, long)
			settings := map[string]any{"paths": []string{filepath.Join(dataDir, "*.ndjson")}}

			env := startBeat(t, registryDir)
			if n := len(env.runOnce(settings, true).Published()); n != 60 {
				t.Fatalf("first run published %d events, expected 60", n)
			}
			env.Stop()

			newPath := tc.change(t, path)

			env = startBeat(t, registryDir)
			defer env.Stop()
			events := env.runOnce(settings, true).Published()
			if len(events) != tc.events {
				t.Fatalf("second run published %d events, expected %d", len(events), tc.events)
			}
			for _, event := range events {
				if got, _ := event.Fields.GetValue("log.file.path"); got != newPath {
					t.Fatalf("event has log.file.path %v, expected %s", got, newPath)
				}
			}
		})
	}
}

func TestRunDropsRemovedFilesFromRegistry(t *testing.T) {
	dataDir, registryDir := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(dataDir, "a.ndjson"), "{\"type\":\"x\",\"id\":\"x--1\"}\n")
	writeFile(t, filepath.Join(dataDir, "b.ndjson"), "{\"type\":\"x\",\"id\":\"x--2\"}\n")
	settings := map[string]any{"paths": []string{filepath.Join(dataDir, "*.ndjson")}}

	env := startBeat(t, registryDir)
	env.runOnce(settings, true)
	if files := storedFiles(t, env); len(files) != 2 {
		t.Fatalf("registry holds %d files after the first run, expected 2", len(files))
	}
	env.Stop()

	if err := os.Remove(filepath.Join(dataDir, "b.ndjson")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dataDir, "c.ndjson"), "{\"type\":\"x\",\"id\":\"x--3\"}\n")

	env = startBeat(t, registryDir)
	defer env.Stop()
	env.runOnce(settings, true)
	files := storedFiles(t, env)
	if len(files) != 2 {
		t.Fatalf("registry holds %d files, expected a.ndjson and c.ndjson: %v", len(files), files)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "b.ndjson") {
			t.Fatalf("registry still holds the removed file: %v", files)
		}
	}
}

// storedFiles returns the paths in the cursor stored in the registry.
func storedFiles(t *testing.T, env *beatEnv) []string {
	t.Helper()
	cur := env.StoredCursor()
	files, ok := cur["files"].(map[string]any)
	if !ok {
		t.Fatalf("stored cursor has no files map: %v", cur)
	}
	var paths []string
	for _, st := range files {
		paths = append(paths, st.(map[string]any)["path"].(string))
	}
	return paths
}
