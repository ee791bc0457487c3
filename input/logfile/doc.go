// Package logfile implements the "logfile" input: it reads STIX 2.0 and 2.1
// content from files on disk and publishes one event per STIX object. The
// event holds the object's JSON text, unchanged, in message, with the ECS
// fields log.file.path (the path where the file was found) and log.offset
// (the byte offset of the object's first byte in the decompressed stream).
// The input never decodes or converts objects; processors do.
//
// # Formats
//
// Reader detects the format from the content, never from the file name.
// It reads STIX bundles (keys in any order), top-level JSON arrays of
// objects, NDJSON (one object per line) and pretty-printed objects such as
// a single bare STIX object, each plain or gzip-compressed. Several such
// documents may follow each other in one file, as in one bundle per line.
// A bundle is streamed object by object, so memory use does not grow with
// its size.
//
// # Cursor
//
// Files appear over time under the glob patterns, so each input has one
// cursor source, and its cursor holds the state of every file the input
// has found (cursorState). A file's state is keyed by its identity, device and
// inode on unix systems, so a renamed file keeps its state. The state holds
// the last path, the offset just after the last published object, the line
// there, the format, the file size and a SHA-256 fingerprint of the first
// 1 KiB (or of the whole file while it is smaller).
//
// Invariants:
//
//   - A file's position reaches the registry only after the output has
//     acknowledged the event that carries it and every event before it.
//     input-cursor guarantees this; the input attaches a cursor update to
//     one event in every checkpointInterval objects of a file and to the
//     last event of each read.
//   - Every update holds the whole map of file states, in a copy that is
//     never changed afterwards. input-cursor (beats be9871f5dab9) applies
//     an update with typeconv.Convert into an interface{} that holds the
//     previous cursor. That replaces the value rather than merging maps (the
//     package tests check this), so a file dropped from the map is dropped
//     from the registry too.
//   - The in-memory state of a file is the one last published, except for a
//     read that produced no event (an empty file, a file of invalid lines):
//     its state is kept in memory and reaches the registry with the next
//     update of any file.
//
// What a restart replays: the events of each file after its last
// acknowledged update, that is at most checkpointInterval objects per file
// plus those in flight. Problems found in a read that produced no event are
// logged again.
//
// When a scan finds a file:
//
//   - unknown identity: read from the start;
//   - fingerprint differs (same inode, new content) or size smaller than
//     stored: read from the start;
//   - read to its end before and same size: skipped;
//   - otherwise: read from the stored offset. For a compressed file the
//     stream is decompressed again up to that offset.
//
// The state of a file that a scan no longer finds is dropped. A file
// matched by two inputs is read by each of them.
//
// # Errors
//
// Invalid content (a bad NDJSON line, a non-object array element, a bundle
// cut short, a binary file, corrupt gzip data) is logged once as a warning
// with the path, offset and line, counted in the read_errors metric, and
// never stops other files or the input. A problem that loses no object,
// such as an empty file, is counted in read_warnings. In tail mode a file
// whose data ends inside a value is only reported if it has not changed by
// the next scan, as a writer may still be appending to it.
//
// # Run mode
//
// With --once (runmode.Once), Run reads every file it finds once, to its
// end, and returns. Otherwise it rescans every scan_frequency and reads new
// files and data appended to known ones.
package logfile
