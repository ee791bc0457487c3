//go:build !unix

package logfile

import "os"

// fileKey identifies a file by its path.
//
// TODO: use the volume serial number and file index on Windows, so that a
// renamed file keeps its state as it does on unix systems.
func fileKey(path string, _ os.FileInfo) string {
	return "path:" + path
}
