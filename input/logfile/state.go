package logfile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// cursorVersion is stored in every cursor so that a later layout can tell
// old cursors apart.
const cursorVersion = 1

// cursorState is the cursor of one input: the state of every file it has
// read, keyed by file identity (see fileKey).
type cursorState struct {
	Version int                  `struct:"version"`
	Files   map[string]fileState `struct:"files"`
}

// fileState records how far one file has been read.
type fileState struct {
	// Path is the path under which the file was last found. The file's
	// identity, not its path, keys the state, so a renamed file keeps it.
	Path string `struct:"path"`
	// Offset is the position in the decompressed stream just after the
	// last object published with this state, where reading resumes.
	Offset int64 `struct:"offset"`
	// Line is the line number at Offset.
	Line int64 `struct:"line"`
	// Format is the detected Format; empty when Offset is not a resume point.
	Format     string `struct:"format"`
	Compressed bool   `struct:"compressed"`
	// Size is the file size on disk when it was read.
	Size int64 `struct:"size"`
	// EOF is set when the file was read to its end, or to an error that
	// stops it, at this Size. Such a file is read again only when its size
	// or its leading bytes change.
	EOF bool `struct:"eof"`
	// Fingerprint is the hex SHA-256 of the first FingerprintSize bytes of
	// the file as stored on disk.
	Fingerprint     string `struct:"fingerprint"`
	FingerprintSize int64  `struct:"fingerprint_size"`
}

// resumePosition returns where a Reader continues this file.
func (s fileState) resumePosition() Position {
	return Position{Offset: s.Offset, Line: s.Line, Format: Format(s.Format)}
}

// fingerprintSize is how many leading bytes identify a file's content. A
// file smaller than that is fingerprinted whole, and again once it grows.
const fingerprintSize = 1024

// readPrefix reads the bytes that are fingerprinted.
func readPrefix(f *os.File, size int64) ([]byte, error) {
	prefix := make([]byte, min(size, fingerprintSize))
	n, err := f.ReadAt(prefix, 0)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return prefix[:n], nil
}

func fingerprint(prefix []byte) string {
	sum := sha256.Sum256(prefix)
	return hex.EncodeToString(sum[:])
}

// readDecision is the action for a file found by a scan.
type readDecision uint8

const (
	readFromStart readDecision = iota
	readFromOffset
	skipFile
)

// decideRead compares a file found on disk with its stored state. prefix
// holds the file's first bytes, up to fingerprintSize. The reason is for
// logs.
func decideRead(prev fileState, known bool, size int64, prefix []byte) (readDecision, string) {
	switch {
	case !known:
		return readFromStart, "new file"
	case int64(len(prefix)) < prev.FingerprintSize:
		return readFromStart, fmt.Sprintf("file truncated to %d bytes", size)
	case fingerprint(prefix[:prev.FingerprintSize]) != prev.Fingerprint:
		return readFromStart, "leading bytes changed, content replaced"
	case size < prev.Size:
		return readFromStart, fmt.Sprintf("file truncated from %d to %d bytes", prev.Size, size)
	case prev.EOF && size == prev.Size:
		return skipFile, "already read"
	case prev.Offset <= 0 || prev.Format == string(FormatUnknown):
		return readFromStart, "no resume position stored"
	}
	return readFromOffset, "resuming"
}
