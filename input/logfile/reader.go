package logfile

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Format is the layout of a STIX file, detected from its content.
type Format string

const (
	// FormatUnknown means no format has been detected yet.
	FormatUnknown Format = ""
	// FormatBundle is a STIX bundle: an object with an "objects" array.
	FormatBundle Format = "bundle"
	// FormatArray is a top-level JSON array of STIX objects.
	FormatArray Format = "array"
	// FormatNDJSON is one STIX object per line.
	FormatNDJSON Format = "ndjson"
	// FormatObjects is one or more JSON objects, each written across
	// several lines, such as a single pretty-printed STIX object.
	FormatObjects Format = "objects"
)

// Default limits of a Reader.
const (
	DefaultMaxObjectSize = 64 << 20
	defaultBufferSize    = 64 << 10

	// binaryCheckSize is how many leading bytes are checked for NUL bytes
	// and invalid UTF-8 before a file is rejected as binary.
	binaryCheckSize = 512
)

// Position is a point where a Reader can resume: the offset in the
// decompressed stream, the line number there and the format. For bundles
// and arrays the offset is just after an element of the array.
type Position struct {
	Offset int64
	Line   int64
	Format Format
}

// ReaderOptions configures a Reader. The zero value reads from the start
// and detects the format.
type ReaderOptions struct {
	// Resume, when its Offset is above zero and its Format is known, starts
	// reading at a Position returned earlier by Reader.Position.
	Resume Position

	// MaxObjectSize is the largest object in bytes that is returned. Larger
	// objects are skipped with a ReadError. Zero means DefaultMaxObjectSize.
	MaxObjectSize int

	// BufferSize is the initial size of the read buffer. Zero means 64 KiB.
	BufferSize int
}

// Object is one STIX object as found in the stream.
type Object struct {
	// Raw is the object's JSON text. It is only valid until the next call
	// to Reader.Next, which may overwrite it.
	Raw []byte
	// Offset is the position of the object's first byte in the
	// decompressed stream.
	Offset int64
	// Line is the 1-based line of the object's first byte.
	Line int64
}

// ReadError describes content that the Reader skipped or could not read.
type ReadError struct {
	// Offset is the position in the decompressed stream where the problem
	// was found.
	Offset int64
	// Line is the 1-based line of Offset, or 0 where it is not known: in
	// an empty file, and before a resume point that could not be reached.
	Line   int64
	Reason string

	// Warning marks a problem that loses no object, such as an empty file
	// or a bundle id of the wrong form.
	Warning bool
	// Fatal means the Reader stops: Next returns io.EOF afterwards.
	Fatal bool
	// Incomplete means the data ended inside a value. A writer may still be
	// appending to the file, so a later read from the last Position can
	// succeed.
	Incomplete bool
}

func (e *ReadError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("offset %d, line %d: %s", e.Offset, e.Line, e.Reason)
	}
	return fmt.Sprintf("offset %d: %s", e.Offset, e.Reason)
}

type phase uint8

const (
	phaseStart         phase = iota // nothing read yet
	phaseDetect                     // at the first JSON byte, format unknown
	phaseNDJSON                     // at a line start or after an object on a line
	phaseObjects                    // between multi-line objects
	phaseElements                   // inside the array of a bundle or the top-level array
	phaseBundleTrailer              // after the objects array, inside the bundle object
	phaseTrailer                    // after a document: whitespace or another document may follow
	phaseDone
)

// Reader streams STIX objects out of a bundle, a JSON array, NDJSON or a
// file of pretty-printed objects, optionally gzip-compressed. It never holds
// more than one object (plus a read buffer) in memory, so the size of a
// bundle does not limit it.
//
// The format is detected from the content:
//   - gzip magic bytes (1f 8b) select decompression; every offset then
//     counts decompressed bytes;
//   - '[' starts a top-level array of objects;
//   - '{' starts a bundle when the object has an "objects" array and its
//     "type", if seen before that array, is "bundle". Keys may come in any
//     order, so a type found after the array is only checked afterwards;
//   - any other '{' object is NDJSON when it ends on its first line and
//     FormatObjects otherwise. Invalid JSON on the object's first line
//     makes it a bad NDJSON line, which is skipped;
//   - other text is NDJSON whose first line is invalid.
//
// After a bundle, an array or a pretty-printed object, another one may
// follow, as in a file of one bundle per line.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	src        io.Reader
	in         io.Reader
	compressed bool
	resume     Position
	maxObject  int64

	buf     []byte
	base    int64 // stream offset of buf[0]
	pos     int   // next unread byte
	end     int   // end of the valid bytes in buf
	keep    int64 // stream offset of the first byte a refill must keep, or -1
	eof     bool
	readErr error

	phase        phase
	format       Format
	line         int64 // line of the byte at pos
	midLine      bool  // the last NDJSON object ended before the end of its line
	inBundle     bool  // the array being read is a bundle's objects array
	afterElement bool  // an element of the array has been read
	checkpoint   Position

	// Members of the bundle for the checks after its objects array. The
	// checks are skipped for the bundle a Reader resumes in, because the
	// first read made them.
	bundleType       *string
	bundleIDSet      bool
	skipBundleChecks bool

	pending []*ReadError
	scanner valueScanner
}

// NewReader returns a Reader over src, which holds the bytes of a file as
// stored (compressed or not). When src is an io.Seeker and the file is not
// compressed, a resume seeks instead of reading the skipped bytes.
func NewReader(src io.Reader, opts ReaderOptions) *Reader {
	maxObject := int64(opts.MaxObjectSize)
	if maxObject <= 0 {
		maxObject = DefaultMaxObjectSize
	}
	size := opts.BufferSize
	if size <= 0 {
		size = defaultBufferSize
	}
	return &Reader{
		src:       src,
		in:        src,
		resume:    opts.Resume,
		maxObject: maxObject,
		buf:       make([]byte, size),
		keep:      -1,
		line:      1,
	}
}

// Format returns the detected format, or FormatUnknown before detection.
func (r *Reader) Format() Format { return r.format }

// Compressed reports whether the stream is gzip-compressed.
func (r *Reader) Compressed() bool { return r.compressed }

// Offset returns how many bytes of the decompressed stream have been read.
func (r *Reader) Offset() int64 { return r.base + int64(r.pos) }

// Position returns where a later Reader can resume: after the last object
// (or the last skipped line or element) returned so far. Its Format is
// FormatUnknown while there is no such point.
func (r *Reader) Position() Position { return r.checkpoint }

// Next returns the next object. It returns a *ReadError for a problem in
// the content; reading goes on with the next call unless the error is
// Fatal. It returns io.EOF at the end of the stream.
func (r *Reader) Next() (Object, error) {
	// The previous object's bytes may be overwritten from here on.
	r.keep = -1

	for {
		if len(r.pending) > 0 {
			err := r.pending[0]
			r.pending = r.pending[1:]
			return Object{}, err
		}

		var (
			obj Object
			ok  bool
		)
		switch r.phase {
		case phaseStart:
			r.start()
		case phaseDetect:
			obj, ok = r.detect()
		case phaseNDJSON:
			obj, ok = r.nextLine()
		case phaseObjects:
			obj, ok = r.nextObject()
		case phaseElements:
			obj, ok = r.nextElement()
		case phaseBundleTrailer:
			r.readBundleMember()
		case phaseTrailer:
			r.readTrailer()
		case phaseDone:
			return Object{}, io.EOF
		}
		if ok {
			return obj, nil
		}
	}
}

// start detects compression and moves to the resume position.
func (r *Reader) start() {
	r.phase = phaseDetect
	for r.end < 2 && r.fill() {
	}
	if r.end >= 2 && r.buf[0] == 0x1f && r.buf[1] == 0x8b {
		if !r.openGzip() {
			return
		}
	}
	if r.resume.Offset <= 0 || r.resume.Format == FormatUnknown {
		return
	}
	if !r.skipTo(r.resume.Offset) {
		return
	}

	r.line = max(r.resume.Line, 1)
	r.skipBundleChecks = true
	r.format = r.resume.Format
	r.checkpoint = r.resume
	switch r.format {
	case FormatNDJSON:
		r.phase = phaseNDJSON
		r.midLine = true
	case FormatObjects:
		r.phase = phaseObjects
	case FormatBundle, FormatArray:
		r.phase = phaseElements
		r.inBundle = r.format == FormatBundle
		r.afterElement = true
	default:
		r.fail(r.resume.Offset, r.line, fmt.Sprintf("cannot resume: unknown format %q", r.resume.Format))
	}
}

// openGzip replaces the input with a decompressor over the same bytes.
func (r *Reader) openGzip() bool {
	head := bytes.Clone(r.buf[:r.end])
	zr, err := gzip.NewReader(io.MultiReader(bytes.NewReader(head), r.src))
	if err != nil {
		r.fail(0, 1, fmt.Sprintf("corrupt gzip data: %v", err))
		return false
	}
	r.in = zr
	r.compressed = true
	r.end, r.pos, r.eof, r.readErr = 0, 0, false, nil
	return true
}

// skipTo moves to the stream offset off, by seeking when possible.
func (r *Reader) skipTo(off int64) bool {
	if seeker, ok := r.src.(io.Seeker); ok && !r.compressed {
		if _, err := seeker.Seek(off, io.SeekStart); err != nil {
			r.fail(off, 0, fmt.Sprintf("cannot seek to the resume offset: %v", err))
			return false
		}
		r.base, r.pos, r.end, r.eof, r.readErr = off, 0, 0, false, nil
		return true
	}
	for r.base+int64(r.end) < off {
		r.pos = r.end
		if !r.fill() {
			// Lines are not counted while skipping.
			r.line = 0
			r.failRead(fmt.Sprintf("data ends at offset %d, before the resume offset %d", r.base+int64(r.end), off))
			return false
		}
	}
	r.pos = int(off - r.base)
	return true
}

// detect reads the first JSON byte of a document and picks the format.
func (r *Reader) detect() (Object, bool) {
	first := r.format == FormatUnknown
	if first && r.base == 0 && r.pos == 0 {
		for r.end < binaryCheckSize && r.fill() {
		}
		if bytes.HasPrefix(r.buf[:r.end], []byte("\xef\xbb\xbf")) {
			r.pos = 3
		}
	}
	c, ok := r.skipSpace()
	if !ok {
		switch {
		case r.readErr != nil:
			r.failRead("")
		case r.base+int64(r.end) == 0:
			r.warn(0, 0, "empty file")
			r.phase = phaseDone
		default:
			r.warn(r.Offset(), 0, "file contains only whitespace")
			r.phase = phaseDone
		}
		return Object{}, false
	}
	// A file that starts as JSON is read as JSON, and a NUL byte after its
	// start is reported where it is: a file padded with NUL bytes after a
	// crash keeps the objects before them.
	if first && r.base == 0 && c != '{' && c != '[' {
		head := r.buf[:min(r.end, binaryCheckSize)]
		if i := bytes.IndexByte(head, 0); i >= 0 {
			line := 1 + int64(bytes.Count(head[:i], []byte("\n")))
			r.fail(int64(i), line, "binary file: NUL byte found, JSON text has none")
			return Object{}, false
		}
		if !validUTF8Prefix(head, r.end > len(head) || !r.eof) {
			r.fail(r.Offset(), r.line, "binary file: the first bytes are neither JSON nor UTF-8 text")
			return Object{}, false
		}
	}

	switch c {
	case '[':
		r.pos++
		r.format = FormatArray
		r.phase = phaseElements
		return Object{}, false
	case '{':
		return r.detectObject()
	default:
		// The line-based reader reports the bad first line and goes on.
		r.format = FormatNDJSON
		r.phase = phaseNDJSON
		return Object{}, false
	}
}

// validUTF8Prefix reports whether p is valid UTF-8. When more bytes follow
// p, a rune cut off at its end is allowed.
func validUTF8Prefix(p []byte, truncated bool) bool {
	if truncated {
		for i := 1; i <= utf8.UTFMax && i <= len(p); i++ {
			if utf8.RuneStart(p[len(p)-i]) {
				if !utf8.FullRune(p[len(p)-i:]) {
					p = p[:len(p)-i]
				}
				break
			}
		}
	}
	return utf8.Valid(p)
}

// detectObject reads the members of the top-level object until it finds an
// "objects" array that makes it a bundle, or until the object ends.
func (r *Reader) detectObject() (Object, bool) {
	start := r.Offset()
	startLine := r.line
	r.keep = start
	r.pos++

	var (
		typ, id          *string
		idOffset, idLine int64
	)
	failed := func(reason string) { r.detectFailed(start, startLine, reason) }
	for first := true; ; first = false {
		c, ok := r.skipSpace()
		if !ok {
			r.failRead(fmt.Sprintf("file ends at offset %d inside the object that starts at offset %d", r.Offset(), start))
			return Object{}, false
		}
		if c == '}' {
			r.pos++
			break
		}
		if !first {
			if c != ',' {
				failed(fmt.Sprintf("invalid character %s after object member, expected ',' or '}'", quoteByte(c)))
				return Object{}, false
			}
			r.pos++
		}

		key, ok := r.readKey(failed)
		if !ok {
			return Object{}, false
		}
		c, ok = r.skipSpace()
		if !ok {
			r.failRead(fmt.Sprintf("file ends at offset %d inside the object that starts at offset %d", r.Offset(), start))
			return Object{}, false
		}
		if key == "objects" && c == '[' && (typ == nil || *typ == "bundle") {
			if id != nil {
				r.checkBundleID(*id, idOffset, idLine)
			}
			r.startBundle(typ)
			return Object{}, false
		}

		valueStart, valueLine := r.Offset(), r.line
		if !r.scanMember(start, startLine) {
			return Object{}, false
		}
		if key != "type" && key != "id" {
			continue
		}
		if s, isString := r.stringAt(valueStart); isString {
			switch key {
			case "type":
				typ = &s
			case "id":
				id, idOffset, idLine = &s, valueStart, valueLine
			}
		}
	}

	if typ != nil && *typ == "bundle" {
		if id != nil {
			r.checkBundleID(*id, idOffset, idLine)
		}
		r.warn(start, startLine, "bundle has no objects array")
		r.format = FormatBundle
		r.phase = phaseTrailer
		return Object{}, false
	}

	raw := r.bytesFrom(start)
	if bytes.IndexByte(raw, '\n') < 0 {
		r.format = FormatNDJSON
		r.phase = phaseNDJSON
		r.midLine = true
		r.checkpoint = Position{Offset: r.Offset(), Line: r.line, Format: FormatNDJSON}
		return Object{Raw: raw, Offset: start, Line: startLine}, true
	}
	r.format = FormatObjects
	r.phase = phaseObjects
	r.checkpoint = Position{Offset: r.Offset(), Line: r.line, Format: FormatObjects}
	return Object{Raw: raw, Offset: start, Line: startLine}, true
}

// readKey reads an object key and the ':' after it. It calls failed with
// the reason of a syntax error, which r.Offset() locates.
func (r *Reader) readKey(failed func(reason string)) (string, bool) {
	c, ok := r.skipSpace()
	if !ok {
		r.failRead(fmt.Sprintf("file ends at offset %d where an object key must start", r.Offset()))
		return "", false
	}
	if c != '"' {
		failed(fmt.Sprintf("invalid character %s where an object key must start", quoteByte(c)))
		return "", false
	}

	keyStart, keyLine := r.Offset(), r.line
	keep := r.keep
	if keep < 0 {
		r.keep = keyStart
	}
	switch r.scanValue(false) {
	case scanFailed:
		failed(r.scanner.reason)
		return "", false
	case scannedTooLarge:
		r.fail(keyStart, keyLine, fmt.Sprintf("object key is larger than the maximum object size of %d bytes", r.maxObject))
		return "", false
	case scanIncomplete:
		r.failRead(fmt.Sprintf("file ends at offset %d inside an object key", r.Offset()))
		return "", false
	}
	key, _ := r.stringAt(keyStart)
	r.keep = keep

	c, ok = r.skipSpace()
	if !ok {
		r.failRead(fmt.Sprintf("file ends at offset %d after an object key", r.Offset()))
		return "", false
	}
	if c != ':' {
		failed(fmt.Sprintf("invalid character %s after object key, expected ':'", quoteByte(c)))
		return "", false
	}
	r.pos++
	return key, true
}

// scanMember scans a member value of the top-level object that starts at
// start.
func (r *Reader) scanMember(start, startLine int64) bool {
	switch r.scanValue(false) {
	case scannedValue:
		return true
	case scannedTooLarge:
		r.fail(start, startLine, fmt.Sprintf("top-level object is larger than the maximum object size of %d bytes", r.maxObject))
	case scanFailed:
		r.detectFailed(start, startLine, r.scanner.reason)
	case scanIncomplete:
		r.failRead(fmt.Sprintf("file ends at offset %d inside the object that starts at offset %d", r.Offset(), start))
	}
	return false
}

// detectFailed handles invalid JSON in the first top-level object. An error
// on the object's first line means a bad NDJSON line: it is skipped and the
// file is read as NDJSON. So is a first line that ends inside the object
// when the next line starts with '{', as the next line of NDJSON does and
// the next line of a pretty-printed object does not: a first line cut
// short would otherwise make the next lines look like its members.
// Anywhere else the whole document is invalid.
func (r *Reader) detectFailed(start, startLine int64, reason string) {
	errOffset := r.Offset()
	text := r.bytesFrom(start)
	nl := bytes.IndexByte(text, '\n')
	if nl < 0 {
		r.toNDJSON(startLine, &ReadError{Offset: errOffset, Line: startLine, Reason: reason})
		r.skipLine()
		r.checkpoint = Position{Offset: r.Offset(), Line: r.line, Format: FormatNDJSON}
		return
	}
	if nl+1 < len(text) && text[nl+1] == '{' {
		r.toNDJSON(startLine, &ReadError{Offset: start + int64(nl), Line: startLine, Reason: "line ends before the value is complete"})
		r.pos = int(start-r.base) + nl + 1
		r.line = startLine + 1
		r.checkpoint = Position{Offset: r.Offset(), Line: r.line, Format: FormatNDJSON}
		return
	}
	r.fail(errOffset, r.line, reason)
}

// toNDJSON switches to reading lines after the first line failed with err.
func (r *Reader) toNDJSON(line int64, err *ReadError) {
	r.format = FormatNDJSON
	r.phase = phaseNDJSON
	r.midLine = false
	r.line = line
	r.report(err)
}

// startBundle switches to reading the objects array of a bundle.
func (r *Reader) startBundle(typ *string) {
	r.pos++
	r.keep = -1
	r.format = FormatBundle
	r.phase = phaseElements
	r.inBundle = true
	r.bundleType = typ
}

// checkBundleID queues a warning for a bundle id without the "bundle--"
// prefix that STIX requires. Such a bundle is still read.
func (r *Reader) checkBundleID(id string, offset, line int64) {
	r.bundleIDSet = true
	if strings.HasPrefix(id, "bundle--") {
		return
	}
	r.warn(offset, line, fmt.Sprintf("bundle id %q does not start with \"bundle--\"", id))
}

// nextElement reads one element of a bundle's objects array or of a
// top-level array. An element with an invalid string, number or literal,
// or a missing or extra ',' or ':' inside it, is skipped with one ReadError
// at its start. Other invalid JSON in an element, such as a bracket of the
// wrong kind, stops the Reader.
func (r *Reader) nextElement() (Object, bool) {
	c, ok := r.skipSpace()
	if !ok {
		r.arrayCutShort("")
		return Object{}, false
	}
	if r.afterElement {
		switch c {
		case ']':
			r.closeArray()
			return Object{}, false
		case ',':
			r.pos++
			if c, ok = r.skipExtraCommas(); !ok {
				r.arrayCutShort("")
				return Object{}, false
			}
			if c == ']' {
				// JavaScript allows a trailing comma, and some writers add one.
				r.warn(r.Offset(), r.line, "invalid character ']' after ',' in array, expected a value; read as the end of the array")
				r.closeArray()
				return Object{}, false
			}
		case '{':
			// Objects written one after another without a comma between
			// them are still separate objects.
			r.warn(r.Offset(), r.line, "invalid character '{' after array element, expected ',' or ']'; read as the next element")
		default:
			r.fail(r.Offset(), r.line, fmt.Sprintf("invalid character %s after array element, expected ',' or ']'", quoteByte(c)))
			return Object{}, false
		}
	} else {
		if c, ok = r.skipExtraCommas(); !ok {
			r.arrayCutShort("")
			return Object{}, false
		}
		if c == ']' {
			r.closeArray()
			return Object{}, false
		}
	}

	start, line := r.Offset(), r.line
	if c == '{' {
		r.keep = start
	}
	outcome := r.scanElement()
	invalid := ""
	if outcome == scanFailed && r.scanner.skipInvalid() {
		invalid, outcome = r.skipInvalidElement()
	}
	switch outcome {
	case scanFailed:
		reason := r.scanner.reason
		if invalid != "" {
			reason = fmt.Sprintf("%s, after %s", reason, invalid)
		}
		r.fail(r.Offset(), r.line, reason)
		return Object{}, false
	case scanIncomplete:
		r.arrayCutShort(invalid)
		return Object{}, false
	}

	r.afterElement = true
	r.checkpoint = Position{Offset: r.Offset(), Line: r.line, Format: r.format}
	switch {
	case invalid != "" && c == '{':
		r.report(&ReadError{Offset: start, Line: line, Reason: invalid + "; object skipped"})
		return Object{}, false
	case invalid != "":
		r.report(&ReadError{Offset: start, Line: line, Reason: invalid + "; array element skipped"})
		return Object{}, false
	case outcome == scannedTooLarge:
		r.report(&ReadError{Offset: start, Line: line, Reason: fmt.Sprintf("object is larger than the maximum object size of %d bytes; skipped", r.maxObject)})
		return Object{}, false
	case c != '{':
		r.report(&ReadError{Offset: start, Line: line, Reason: fmt.Sprintf("array element is %s, not an object; skipped", valueKind(c))})
		return Object{}, false
	}
	return Object{Raw: r.bytesFrom(start), Offset: start, Line: line}, true
}

// skipExtraCommas skips white space and any ',' where an array element
// must start, with a warning for each: a comma with no element before it
// separates nothing, so no object is lost. It returns the next byte.
func (r *Reader) skipExtraCommas() (byte, bool) {
	for {
		c, ok := r.skipSpace()
		if !ok || c != ',' {
			return c, ok
		}
		r.warn(r.Offset(), r.line, "invalid character ',' where an array element must start; ignored")
		r.pos++
	}
}

// skipInvalidElement scans to the end of an array element after the
// scanner found an invalid string, number or literal in it at r.Offset().
// It returns the scanner's reason with the location of the error, and how
// the scan ended: scannedValue or scannedTooLarge when the end was found.
// The element's bytes are dropped, so skipping it takes no memory
// whatever its size.
func (r *Reader) skipInvalidElement() (string, scanOutcome) {
	reason := fmt.Sprintf("%s at offset %d, line %d", r.scanner.reason, r.Offset(), r.line)
	r.keep = -1
	return reason, r.scanRest(false)
}

// arrayCutShort reports the end of the data inside the array. invalid, when
// not empty, is the error in the element being skipped, which is often what
// made the end of that element impossible to find: an unescaped backslash
// before a quote, for one.
func (r *Reader) arrayCutShort(invalid string) {
	what := "array"
	if r.inBundle {
		what = "bundle"
	}
	reason := fmt.Sprintf("%s is cut short: data ends at offset %d before the objects array is closed", what, r.base+int64(r.end))
	if invalid != "" {
		reason += ", while skipping an element with " + invalid
	}
	r.failRead(reason)
}

func (r *Reader) closeArray() {
	r.pos++
	if r.inBundle {
		r.phase = phaseBundleTrailer
		return
	}
	r.phase = phaseTrailer
}

// readBundleMember reads one member of the bundle after its objects array,
// or the bundle's closing brace.
func (r *Reader) readBundleMember() {
	c, ok := r.skipSpace()
	if !ok {
		r.failRead(fmt.Sprintf("bundle is cut short: data ends at offset %d before its closing '}'", r.base+int64(r.end)))
		return
	}
	if c == '}' {
		r.pos++
		r.phase = phaseTrailer
		r.checkBundleType()
		return
	}
	if c != ',' {
		r.fail(r.Offset(), r.line, fmt.Sprintf("invalid character %s after the objects array, expected ',' or '}'", quoteByte(c)))
		return
	}
	r.pos++

	failed := func(reason string) { r.fail(r.Offset(), r.line, reason) }
	key, ok := r.readKey(failed)
	if !ok {
		return
	}
	if _, ok := r.skipSpace(); !ok {
		r.failRead(fmt.Sprintf("bundle is cut short: data ends at offset %d after the key %q", r.Offset(), key))
		return
	}
	valueStart, valueLine := r.Offset(), r.line
	if key == "type" || key == "id" {
		r.keep = valueStart
	}
	switch r.scanValue(false) {
	case scanFailed:
		r.fail(r.Offset(), r.line, r.scanner.reason)
		return
	case scanIncomplete:
		r.failRead(fmt.Sprintf("bundle is cut short: data ends at offset %d inside the value of %q", r.Offset(), key))
		return
	case scannedTooLarge:
		return
	}
	if r.skipBundleChecks {
		return
	}
	s, isString := r.stringAt(valueStart)
	switch {
	case key == "type" && isString:
		r.bundleType = &s
	case key == "id" && isString && !r.bundleIDSet:
		r.checkBundleID(s, valueStart, valueLine)
	}
	r.keep = -1
}

// checkBundleType warns when an object read as a bundle because of its
// objects array turns out to have another type, or none.
func (r *Reader) checkBundleType() {
	if r.skipBundleChecks {
		return
	}
	switch {
	case r.bundleType == nil:
		r.warn(r.Offset(), r.line, "object with an objects array has no type; its objects were read as a bundle's")
	case *r.bundleType != "bundle":
		r.warn(r.Offset(), r.line, fmt.Sprintf("object with an objects array has type %q, not \"bundle\"; its objects were read as a bundle's", *r.bundleType))
	}
}

// readTrailer reads what follows a document: whitespace, or the start of
// another document.
func (r *Reader) readTrailer() {
	c, ok := r.skipSpace()
	if !ok {
		if r.readErr != nil {
			r.failRead("")
			return
		}
		r.phase = phaseDone
		return
	}
	if c == '{' || c == '[' {
		r.phase = phaseDetect
		r.inBundle = false
		r.afterElement = false
		r.bundleType = nil
		r.bundleIDSet = false
		r.skipBundleChecks = false
		return
	}
	r.fail(r.Offset(), r.line, fmt.Sprintf("unexpected data after the end of the %s", r.format))
}

// nextLine reads NDJSON: one object per line. A bad line is reported and
// skipped.
func (r *Reader) nextLine() (Object, bool) {
	if r.midLine && !r.finishLine() {
		return Object{}, false
	}

	c, ok := r.skipSpace()
	if !ok {
		if r.readErr != nil {
			r.failRead("")
			return Object{}, false
		}
		r.checkpoint = Position{Offset: r.Offset(), Line: r.line, Format: FormatNDJSON}
		r.phase = phaseDone
		return Object{}, false
	}

	start := r.Offset()
	line := r.line
	if c != '{' {
		r.report(&ReadError{Offset: start, Line: line, Reason: fmt.Sprintf("invalid character %s at the start of the line, expected '{'", quoteByte(c))})
		r.skipLine()
		r.checkpoint = Position{Offset: r.Offset(), Line: r.line, Format: FormatNDJSON}
		return Object{}, false
	}

	r.keep = start
	switch r.scanValue(true) {
	case scannedValue:
		r.midLine = true
		r.checkpoint = Position{Offset: r.Offset(), Line: r.line, Format: FormatNDJSON}
		return Object{Raw: r.bytesFrom(start), Offset: start, Line: line}, true
	case scannedTooLarge:
		r.report(&ReadError{Offset: start, Line: line, Reason: fmt.Sprintf("object is larger than the maximum object size of %d bytes; skipped", r.maxObject)})
		r.midLine = true
	case scanFailed:
		r.report(&ReadError{Offset: r.Offset(), Line: line, Reason: r.scanner.reason + "; line skipped"})
		r.skipLine()
	case scanIncomplete:
		if r.readErr != nil {
			r.failRead("")
			return Object{}, false
		}
		r.pending = append(r.pending, &ReadError{
			Offset:     r.base + int64(r.end),
			Line:       line,
			Reason:     fmt.Sprintf("line is cut short: data ends before the object that starts at offset %d is complete", start),
			Fatal:      true,
			Incomplete: true,
		})
		r.phase = phaseDone
		return Object{}, false
	}
	r.checkpoint = Position{Offset: r.Offset(), Line: r.line, Format: FormatNDJSON}
	return Object{}, false
}

// finishLine consumes the rest of the line after an NDJSON object, which
// must be blank.
func (r *Reader) finishLine() bool {
	for {
		for r.pos < r.end {
			switch c := r.buf[r.pos]; c {
			case ' ', '\t', '\r':
				r.pos++
			case '\n':
				r.pos++
				r.line++
				r.midLine = false
				return true
			case '{':
				// Another object on the same line is read as its own object.
				r.midLine = false
				return true
			default:
				r.midLine = false
				r.report(&ReadError{Offset: r.Offset(), Line: r.line, Reason: fmt.Sprintf("unexpected %s after the object on the same line; rest of the line skipped", quoteByte(c))})
				r.skipLine()
				r.checkpoint = Position{Offset: r.Offset(), Line: r.line, Format: FormatNDJSON}
				return false
			}
		}
		if !r.fill() {
			r.midLine = false
			return true
		}
	}
}

// nextObject reads the next of a series of multi-line objects.
func (r *Reader) nextObject() (Object, bool) {
	c, ok := r.skipSpace()
	if !ok {
		if r.readErr != nil {
			r.failRead("")
			return Object{}, false
		}
		r.phase = phaseDone
		return Object{}, false
	}
	start, line := r.Offset(), r.line
	if c != '{' {
		r.fail(start, line, fmt.Sprintf("invalid character %s, expected '{' or the end of the file", quoteByte(c)))
		return Object{}, false
	}

	r.keep = start
	switch r.scanValue(false) {
	case scanFailed:
		r.fail(r.Offset(), r.line, r.scanner.reason)
		return Object{}, false
	case scanIncomplete:
		r.failRead(fmt.Sprintf("object is cut short: data ends at offset %d before the object that starts at offset %d is complete", r.base+int64(r.end), start))
		return Object{}, false
	case scannedTooLarge:
		r.report(&ReadError{Offset: start, Line: line, Reason: fmt.Sprintf("object is larger than the maximum object size of %d bytes; skipped", r.maxObject)})
		r.checkpoint = Position{Offset: r.Offset(), Line: r.line, Format: FormatObjects}
		return Object{}, false
	}
	r.checkpoint = Position{Offset: r.Offset(), Line: r.line, Format: FormatObjects}
	return Object{Raw: r.bytesFrom(start), Offset: start, Line: line}, true
}

type scanOutcome uint8

const (
	scannedValue    scanOutcome = iota
	scannedTooLarge             // scanned to its end but not kept
	scanFailed                  // invalid JSON at r.Offset(), reason in r.scanner.reason
	scanIncomplete              // the data ended inside the value
)

// scanValue scans the JSON value at r.pos and leaves r.pos after it. When
// r.keep is set, the bytes from r.keep stay in the buffer up to the maximum
// object size. A larger value is still scanned to its end, so that reading
// can go on after it, but its bytes are dropped.
func (r *Reader) scanValue(singleLine bool) scanOutcome {
	r.scanner.begin(singleLine)
	return r.scanRest(singleLine)
}

// scanElement scans an array element as scanValue does. Unlike scanValue,
// it reports a malformed scalar such as 1.2.3 as an invalid number, so that
// skipInvalidElement can skip it.
func (r *Reader) scanElement() scanOutcome {
	r.scanner.begin(false)
	r.scanner.inArray = true
	return r.scanRest(false)
}

// scanRest goes on with the value that the scanner is inside, as scanValue
// does.
func (r *Reader) scanRest(singleLine bool) scanOutcome {
	tooLarge := false
	for {
		n, result := r.scanner.scan(r.buf[r.pos:r.end])
		if !singleLine {
			r.line += int64(bytes.Count(r.buf[r.pos:r.pos+n], []byte("\n")))
		}
		r.pos += n
		if r.keep >= 0 && r.Offset()-r.keep > r.maxObject {
			r.keep = -1
			tooLarge = true
		}
		switch result {
		case scanDone:
			if tooLarge {
				return scannedTooLarge
			}
			return scannedValue
		case scanError:
			return scanFailed
		}
		if !r.fill() {
			return scanIncomplete
		}
	}
}

// skipSpace moves past whitespace, counting lines, and returns the next
// byte without consuming it. It returns false at the end of the data.
func (r *Reader) skipSpace() (byte, bool) {
	for {
		for r.pos < r.end {
			c := r.buf[r.pos]
			if !isSpace(c) {
				return c, true
			}
			if c == '\n' {
				r.line++
			}
			r.pos++
		}
		if !r.fill() {
			return 0, false
		}
	}
}

// skipLine moves past the next newline, or to the end of the data.
func (r *Reader) skipLine() {
	for {
		if i := bytes.IndexByte(r.buf[r.pos:r.end], '\n'); i >= 0 {
			r.pos += i + 1
			r.line++
			return
		}
		r.pos = r.end
		if !r.fill() {
			return
		}
	}
}

// fill reads more of the stream into the buffer. It keeps the unread bytes
// and those from r.keep on, moving them to the front of the buffer or
// growing it when it is full. It returns false when no byte was added.
func (r *Reader) fill() bool {
	if r.eof || r.readErr != nil {
		return false
	}
	if r.end == len(r.buf) {
		from := r.pos
		if r.keep >= 0 {
			from = min(from, int(r.keep-r.base))
		}
		if from > 0 {
			copy(r.buf, r.buf[from:r.end])
			r.base += int64(from)
			r.pos -= from
			r.end -= from
		}
		if r.end == len(r.buf) {
			grown := make([]byte, 2*len(r.buf))
			copy(grown, r.buf[:r.end])
			r.buf = grown
		}
	}

	for empty := 0; empty < 100; empty++ {
		n, err := r.in.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			if errors.Is(err, io.EOF) {
				r.eof = true
			} else {
				r.readErr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	r.readErr = io.ErrNoProgress
	return false
}

// bytesFrom returns the kept bytes from the stream offset start to r.pos.
func (r *Reader) bytesFrom(start int64) []byte {
	return r.buf[start-r.base : r.pos]
}

// stringAt decodes the JSON string value that starts at the stream offset
// start and ends at r.pos. It reports false for any other kind of value.
func (r *Reader) stringAt(start int64) (string, bool) {
	raw := r.bytesFrom(start)
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// warn queues a ReadError that loses no object.
func (r *Reader) warn(offset, line int64, reason string) {
	r.pending = append(r.pending, &ReadError{Offset: offset, Line: line, Reason: reason, Warning: true})
}

// report queues a ReadError after which reading goes on.
func (r *Reader) report(err *ReadError) {
	r.pending = append(r.pending, err)
}

// fail queues a fatal ReadError and stops the Reader.
func (r *Reader) fail(offset, line int64, reason string) {
	r.pending = append(r.pending, &ReadError{Offset: offset, Line: line, Reason: reason, Fatal: true})
	r.phase = phaseDone
}

// failRead stops the Reader at the end of the data. A read or
// decompression error is reported as such. Otherwise the data ended early,
// so the error gets reason, which locates the end, and is marked Incomplete.
func (r *Reader) failRead(reason string) {
	end := r.base + int64(r.end)
	switch {
	case r.readErr != nil && r.compressed && errors.Is(r.readErr, io.ErrUnexpectedEOF):
		// A gzip file still being written ends like a truncated one.
		r.fail(end, r.line, fmt.Sprintf("gzip data ends early, after decompressed offset %d", end))
		r.pending[len(r.pending)-1].Incomplete = true
	case r.readErr != nil && r.compressed:
		r.fail(end, r.line, fmt.Sprintf("corrupt gzip data after decompressed offset %d: %v", end, r.readErr))
	case r.readErr != nil:
		r.fail(end, r.line, fmt.Sprintf("read failed: %v", r.readErr))
	default:
		r.fail(end, r.line, reason)
		r.pending[len(r.pending)-1].Incomplete = true
	}
}

// valueKind names the JSON kind of a value from its first byte.
func valueKind(c byte) string {
	switch c {
	case '"':
		return "a string"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}
