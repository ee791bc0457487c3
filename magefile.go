//go:build mage

// Build, test and benchmark targets. Run them with go run mage.go TARGET,
// or with mage TARGET where mage is installed.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"
)

// binary is the path Build writes tibeat to: the repository root, so that the
// default configuration finds the bundled sample under path.home.
const binary = "tibeat"

// fuzzTime bounds each fuzz target in Test; long fuzzing is for go test
// -fuzz by hand.
const fuzzTime = "20s"

// Build compiles tibeat into ./tibeat.
func Build() error {
	return sh.RunV("go", "build", "-trimpath", "-o", binary, ".")
}

// Check fails on unformatted Go files and on go vet findings.
func Check() error {
	out, err := sh.Output("gofmt", "-l", ".")
	if err != nil {
		return err
	}
	if out != "" {
		return fmt.Errorf("files not formatted with gofmt:\n%s", out)
	}
	return sh.RunV("go", "vet", "./...")
}

// Test runs everything CI runs: Check, the Go tests, a short run of every
// fuzz target, and the system tests against the built binary.
func Test() {
	mg.SerialDeps(Check, UnitTest, Fuzz, Build, SystemTest)
}

// UnitTest runs the Go tests of every package.
func UnitTest() error {
	return sh.RunV("go", "test", "-count=1", "./...")
}

// Fuzz runs each fuzz target for a short while.
func Fuzz() error {
	targets := []struct{ name, pkg string }{
		{"FuzzParse", "./internal/stix/pattern"},
		{"FuzzScanner", "./input/logfile"},
		{"FuzzReader", "./input/logfile"},
	}
	for _, t := range targets {
		if err := sh.RunV("go", "test", "-run=^$", "-fuzz=^"+t.name+"$", "-fuzztime="+fuzzTime, t.pkg); err != nil {
			return err
		}
	}
	return nil
}

// SystemTest runs the pytest suite in tests/system against ./tibeat, in a
// virtual environment under build/ that holds the test requirements.
func SystemTest() error {
	python, err := venv()
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(binary)
	if err != nil {
		return err
	}
	env := map[string]string{"TIBEAT_BINARY": abs}
	return sh.RunWithV(env, python, "-m", "pytest", "-v", "tests/system")
}

// Bench runs the Go benchmarks of the conversion path and of libbeat's
// encoding of its documents, then BenchShip when the shared harness is
// there.
func Bench() error {
	err := sh.RunV("go", "test", "-run=^$", "-bench=.", "-benchmem",
		"./internal/stix/...", "./processors/stix/", "./input/logfile/")
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(harnessDir(), "anchors.sh")); err != nil {
		fmt.Println("bench: skipping the end-to-end pass: no harness at", harnessDir())
		return nil
	}
	return BenchShip()
}

func harnessDir() string {
	return envOr("BENCH_HARNESS", filepath.Join("..", "shared", "bench"))
}

// BenchShip measures tibeat end to end beside Elastic's Filebeat, in one
// interleaved pass of the shared harness (anchors.sh), on N generated
// indicators: BENCH_N (default 100000), BENCH_INPUT (the input section,
// default bench/logfile.yml; bench/taxii.yml and bench/cel.yml pull from
// the harness's TAXII stub and want SYSTEMS="cel beat"), BENCH_HARNESS (default
// ../shared/bench), and the harness's own variables such as RUNS.
func BenchShip() error {
	mg.Deps(Build)
	harness := harnessDir()
	script := filepath.Join(harness, "anchors.sh")
	if _, err := os.Stat(script); err != nil {
		return fmt.Errorf("benchmark harness not found at %s: set BENCH_HARNESS", harness)
	}
	bin, err := filepath.Abs(binary)
	if err != nil {
		return err
	}
	input, err := filepath.Abs(envOr("BENCH_INPUT", filepath.Join("bench", "logfile.yml")))
	if err != nil {
		return err
	}
	name := "tibeat-" + strings.TrimSuffix(filepath.Base(input), filepath.Ext(input))
	section, err := withCELProgram(input, harness)
	if err != nil {
		return err
	}
	if section != input {
		defer os.Remove(section)
		input = section
	}
	env := map[string]string{
		"SYSTEMS":         envOr("SYSTEMS", "floor filestream beat"),
		"FLUSH_TIMEOUT":   envOr("FLUSH_TIMEOUT", "0s"),
		"BEAT_BIN":        bin,
		"BEAT_INPUT_YAML": input,
		"BEAT_NAME":       name,
	}
	return sh.RunWithV(env, "bash", script, envOr("BENCH_N", "100000"))
}

// withCELProgram returns the path of an input section whose placeholder
// __CEL_PROGRAM__, if any, holds the harness's TAXII program, indented for
// a YAML block, so that tibeat runs the very program Filebeat runs.
func withCELProgram(input, harness string) (string, error) {
	text, err := os.ReadFile(input)
	if err != nil {
		return "", err
	}
	// The placeholder is a line of its own.
	const placeholder = "\n__CEL_PROGRAM__\n"
	if !strings.Contains(string(text), placeholder) {
		return input, nil
	}
	program, err := os.ReadFile(filepath.Join(harness, "cel", "taxii.cel"))
	if err != nil {
		return "", err
	}
	indented := "\n      " + strings.ReplaceAll(strings.TrimRight(string(program), "\n"), "\n", "\n      ") + "\n"
	out, err := os.CreateTemp("", "tibeat-bench-cel-*.yml")
	if err != nil {
		return "", err
	}
	defer out.Close()
	if _, err := out.WriteString(strings.Replace(string(text), placeholder, indented, 1)); err != nil {
		return "", err
	}
	return out.Name(), nil
}

// BenchBundle measures peak memory and throughput on two bundles from
// tests/cases/B28/gen_bundle.py: 150,000 indicators (about 53 MB) and
// 3,000,000 (about 1.06 GB), the big one a second time with
// tibeat.context.max_indicators: 50000. Each run is tibeat run --once with
// the logfile input and output.discard under /usr/bin/time -v. It prints
// objects, wall time, CPU time, objects per second and peak RSS per run.
// It fails when a run publishes a different number of events than the
// bundle holds, or when the big file's peak RSS exceeds 1.5 times the small
// one's. The files go to a new folder under TMPDIR (default /tmp), which is
// deleted at the end, so about 1.1 GB of free space is needed for a while.
func BenchBundle() error {
	mg.Deps(Build)
	dir, err := os.MkdirTemp("", "tibeat-bench-bundle-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The third run reads the big bundle again with a smaller context
	// index, the setting the README gives for machines with little memory.
	bundles := []struct {
		name          string
		objects       int
		maxIndicators int // 0 keeps the default
	}{
		{"small.json", 150_000, 0},
		{"big.json", 3_000_000, 0},
		{"big.json", 3_000_000, 50_000},
	}
	var runs []bundleRun
	for _, b := range bundles {
		run, err := measureBundle(dir, b.name, b.objects, b.maxIndicators)
		if err != nil {
			return err
		}
		runs = append(runs, run)
	}

	fmt.Printf("\n%-10s %15s %12s %10s %9s %11s %10s %9s %17s\n", "file", "max_indicators", "bytes", "objects", "wall s", "CPU s", "objects/s", "peak MB", "progress lines")
	for i, r := range runs {
		limit := "default"
		if n := bundles[i].maxIndicators; n > 0 {
			limit = strconv.Itoa(n)
		}
		fmt.Printf("%-10s %15s %12d %10d %9.1f %11.1f %10.0f %9.1f %17d\n", r.name, limit, r.bytes, r.objects, r.wall.Seconds(), r.cpu.Seconds(),
			float64(r.objects)/r.wall.Seconds(), float64(r.peakRSSKiB)/1024, r.progressLines)
	}
	ratio := float64(runs[1].peakRSSKiB) / float64(runs[0].peakRSSKiB)
	fmt.Printf("peak RSS big/small: %.2f (bound 1.5)\n", ratio)

	for i, r := range runs {
		if r.objects != bundles[i].objects {
			return fmt.Errorf("%s: %d events published, expected %d", r.name, r.objects, bundles[i].objects)
		}
	}
	if ratio > 1.5 {
		return fmt.Errorf("peak RSS for big.json is %.2f times that for small.json, more than 1.5", ratio)
	}
	return nil
}

// bundleRun is the measurement of one tibeat run --once over a generated
// bundle.
type bundleRun struct {
	name          string
	bytes         int64
	objects       int // documents_published from the run summary
	wall, cpu     time.Duration
	peakRSSKiB    int64
	progressLines int
}

// measureBundle runs tibeat over a bundle of count indicators in dir,
// generating it when it is not there yet, with maxIndicators as
// tibeat.context.max_indicators unless it is 0.
func measureBundle(dir, name string, count, maxIndicators int) (bundleRun, error) {
	run := bundleRun{name: name}
	bundle := filepath.Join(dir, name)
	if _, err := os.Stat(bundle); err != nil {
		fmt.Printf("bench: generating %s with %d indicators\n", bundle, count)
		if err := sh.RunV("python3", filepath.Join("tests", "cases", "B28", "gen_bundle.py"), bundle, strconv.Itoa(count)); err != nil {
			return run, err
		}
	}
	info, err := os.Stat(bundle)
	if err != nil {
		return run, err
	}
	run.bytes = info.Size()

	base := fmt.Sprintf("%s-%d", strings.TrimSuffix(name, filepath.Ext(name)), maxIndicators)
	config := filepath.Join(dir, base+".yml")
	settings := fmt.Sprintf("tibeat.inputs:\n  - type: logfile\n    id: bench-bundle\n    paths: [%q]\noutput.discard.enabled: true\n", bundle)
	if maxIndicators > 0 {
		settings += fmt.Sprintf("tibeat.context.max_indicators: %d\n", maxIndicators)
	}
	if err := os.WriteFile(config, []byte(settings), 0o600); err != nil {
		return run, err
	}
	home, err := os.Getwd()
	if err != nil {
		return run, err
	}
	stderrPath := filepath.Join(dir, base+".stderr")
	stderr, err := os.Create(stderrPath)
	if err != nil {
		return run, err
	}
	defer stderr.Close()

	fmt.Printf("bench: /usr/bin/time -v ./tibeat run --once -e -c %s\n", config)
	cmd := exec.Command("/usr/bin/time", "-v", filepath.Join(home, binary), "run", "--once", "-e",
		"-c", config, "--path.home", home,
		"--path.data", filepath.Join(dir, "data-"+base), "--path.logs", filepath.Join(dir, "logs-"+base))
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return run, fmt.Errorf("tibeat run on %s failed: %w. End of its log:\n%s", name, err, tail(stderrPath, 4000))
	}
	if err := parseBundleRun(stderrPath, &run); err != nil {
		return run, fmt.Errorf("%s: %w. End of the log:\n%s", name, err, tail(stderrPath, 4000))
	}
	return run, nil
}

// parseBundleRun reads the run summary and the progress lines from tibeat's
// JSON log and the figures from the report of GNU time, which share one
// standard error file.
func parseBundleRun(path string, run *bundleRun) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()

	var user, system float64
	summary := false
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if strings.HasPrefix(line, "{") {
			var entry struct {
				Message   string `json:"message"`
				Published int    `json:"documents_published"`
			}
			if json.Unmarshal([]byte(line), &entry) != nil {
				continue
			}
			switch entry.Message {
			case "run summary":
				run.objects, summary = entry.Published, true
			case "Progress reading STIX file":
				run.progressLines++
			}
			continue
		}

		key, value, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		switch key {
		case "User time (seconds)":
			user, _ = strconv.ParseFloat(value, 64)
		case "System time (seconds)":
			system, _ = strconv.ParseFloat(value, 64)
		case "Elapsed (wall clock) time (h:mm:ss or m:ss)":
			run.wall, err = parseClock(value)
			if err != nil {
				return err
			}
		case "Maximum resident set size (kbytes)":
			run.peakRSSKiB, _ = strconv.ParseInt(value, 10, 64)
		}
	}
	if err := scanner.Err(); err != nil {
		return err
	}

	if !summary {
		return fmt.Errorf("run summary missing from the log")
	}
	if run.wall == 0 || run.peakRSSKiB == 0 {
		return fmt.Errorf("wall clock time or maximum resident set size missing from the /usr/bin/time -v report")
	}
	run.cpu = time.Duration((user + system) * float64(time.Second))
	return nil
}

// tail returns the last size bytes of a file, for error messages. The
// folder with the logs is deleted when BenchBundle ends.
func tail(path string, size int64) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if int64(len(data)) > size {
		data = data[int64(len(data))-size:]
	}
	return string(data)
}

// parseClock converts GNU time's elapsed time, h:mm:ss or m:ss.ss.
func parseClock(value string) (time.Duration, error) {
	var total float64
	for _, part := range strings.Split(value, ":") {
		n, err := strconv.ParseFloat(part, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid elapsed time %q from /usr/bin/time", value)
		}
		total = total*60 + n
	}
	return time.Duration(total * float64(time.Second)), nil
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// venv creates build/venv with tests/system/requirements.txt installed and
// returns its python.
func venv() (string, error) {
	dir := filepath.Join("build", "venv")
	python := filepath.Join(dir, "bin", "python")
	if _, err := os.Stat(python); err != nil {
		if err := sh.RunV("python3", "-m", "venv", dir); err != nil {
			return "", err
		}
	}
	cmd := exec.Command(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", "tests/system/requirements.txt")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("install the system test requirements: %w", err)
	}
	return strings.TrimSpace(python), nil
}
