//go:build unix

package logfile

import (
	"os"
	"strconv"
	"syscall"
)

// fileKey identifies a file by device and inode, which a rename keeps. A
// new file that reuses a deleted file's inode differs in the fingerprint of
// its leading bytes (see decideRead).
func fileKey(path string, info os.FileInfo) string {
	stat, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return "path:" + path
	}
	//nolint:unconvert // Dev and Ino have different integer types across unix systems.
	return strconv.FormatUint(uint64(stat.Dev), 10) + "-" + strconv.FormatUint(uint64(stat.Ino), 10)
}
