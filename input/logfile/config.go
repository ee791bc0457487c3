package logfile

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/elastic/beats/v7/libbeat/common/cfgtype"
)

// config is the configuration of one logfile input.
type config struct {
	// Paths are glob patterns with filepath.Glob syntax. Every regular file
	// they match is read.
	Paths []string `config:"paths"`

	// ScanFrequency is how often the patterns are matched again to find new
	// files and data appended to known ones. It is not used with --once.
	ScanFrequency time.Duration `config:"scan_frequency"`

	// MaxObjectSize is the largest STIX object in bytes that is published.
	// It bounds the memory one object can take; larger objects are skipped
	// and counted as read errors.
	MaxObjectSize cfgtype.ByteSize `config:"max_object_size"`

	// ProgressInterval is how often a read of one file that is still
	// running logs the objects read so far, the offset and the rate.
	ProgressInterval time.Duration `config:"progress_interval"`
}

func defaultConfig() config {
	return config{
		ScanFrequency:    10 * time.Second,
		MaxObjectSize:    DefaultMaxObjectSize,
		ProgressInterval: time.Minute,
	}
}

// maxObjectSizeLimit keeps max_object_size within an int on every platform.
const maxObjectSizeLimit = 1 << 30

// Validate checks the settings after unpacking.
func (c *config) Validate() error {
	if len(c.Paths) == 0 {
		return errors.New("paths: at least one glob pattern is required")
	}
	for _, pattern := range c.Paths {
		if pattern == "" {
			return errors.New("paths: a glob pattern must not be empty")
		}
		if err := checkGlob(pattern); err != nil {
			return fmt.Errorf("paths: invalid glob pattern %q: %w", pattern, err)
		}
	}
	if c.ScanFrequency <= 0 {
		return fmt.Errorf("scan_frequency must be greater than 0, got %v", c.ScanFrequency)
	}
	if c.ProgressInterval <= 0 {
		return fmt.Errorf("progress_interval must be greater than 0, got %v", c.ProgressInterval)
	}
	if c.MaxObjectSize <= 0 || c.MaxObjectSize > maxObjectSizeLimit {
		return fmt.Errorf("max_object_size must be between 1 byte and 1 GiB, got %d bytes", int64(c.MaxObjectSize))
	}
	return nil
}

// checkGlob looks for syntax errors in a glob pattern.
//
// NOTE: filepath.Match stops at the first chunk that does not match, so no
// single name makes it check the whole pattern. Matching the empty name and
// the pattern's own text catches the unclosed brackets in the tests. An
// error both miss is logged when the scan runs filepath.Glob.
func checkGlob(pattern string) error {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return err
	}
	_, err := filepath.Match(pattern, pattern)
	return err
}

// Settings returns the struct the input unpacks its settings into, so that
// keys it does not read can be named.
func Settings() any { return config{} }
