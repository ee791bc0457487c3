//go:build mage

// Build, test and benchmark targets. Run them with go run mage.go TARGET,
// or with mage TARGET where mage is installed.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

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

// Bench runs the Go benchmarks of the conversion path, then BenchShip when
// the shared harness is there.
func Bench() error {
	err := sh.RunV("go", "test", "-run=^$", "-bench=.", "-benchmem",
		"./internal/stix/...", "./input/logfile/")
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
// default bench/logfile.yml; bench/taxii.yml pulls from the harness's TAXII
// stub and wants SYSTEMS="cel beat"), BENCH_HARNESS (default
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
	env := map[string]string{
		"SYSTEMS":         envOr("SYSTEMS", "floor filestream beat"),
		"FLUSH_TIMEOUT":   envOr("FLUSH_TIMEOUT", "0s"),
		"BEAT_BIN":        bin,
		"BEAT_INPUT_YAML": input,
		"BEAT_NAME":       name,
	}
	return sh.RunWithV(env, "bash", script, envOr("BENCH_N", "100000"))
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
