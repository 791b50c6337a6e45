package telemetry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Environment variables of the error spool.
const (
	envSpoolDir      = "OTELSENTRY_SPOOL_DIR"
	envSpoolMaxBytes = "OTELSENTRY_SPOOL_MAX_BYTES"
	envSpoolMaxAge   = "OTELSENTRY_SPOOL_MAX_AGE"
)

// Spool defaults. 64 MiB holds several thousand error events (a few KiB
// each, more with long stack traces); 24 h is as long as an error is still
// worth reporting as it happened.
const (
	defaultSpoolMaxBytes = 64 << 20
	defaultSpoolMaxFiles = 10000
	defaultSpoolMaxAge   = 24 * time.Hour
)

// spoolConfig configures the on-disk error spool. An empty dir turns it off
// (the library default; the service turns it on).
type spoolConfig struct {
	dir      string
	maxBytes int64
	maxFiles int
	maxAge   time.Duration
}

// resolve fills what options left unset from the environment, then
// defaults, and checks the result. Errors name the variable and the value.
func (s *spoolConfig) resolve(getenv func(string) string) error {
	if s.dir == "" {
		s.dir = strings.TrimSpace(getenv(envSpoolDir))
	}
	if s.maxBytes == 0 {
		if v := strings.TrimSpace(getenv(envSpoolMaxBytes)); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return &configError{envSpoolMaxBytes, v, "not a positive number of bytes"}
			}
			s.maxBytes = n
		}
	}
	if s.maxAge == 0 {
		if v := strings.TrimSpace(getenv(envSpoolMaxAge)); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return &configError{envSpoolMaxAge, v, "not a positive duration (want e.g. 24h)"}
			}
			s.maxAge = d
		}
	}
	if s.maxBytes == 0 {
		s.maxBytes = defaultSpoolMaxBytes
	}
	if s.maxFiles == 0 {
		s.maxFiles = defaultSpoolMaxFiles
	}
	if s.maxAge == 0 {
		s.maxAge = defaultSpoolMaxAge
	}
	if s.maxBytes < 0 || s.maxFiles < 0 || s.maxAge < 0 {
		return &configError{"WithSpoolLimits", fmt.Sprintf("%d bytes, %d files, %s", s.maxBytes, s.maxFiles, s.maxAge), "limits must be positive"}
	}
	return nil
}

// WithSpoolDir turns on the on-disk error spool in dir, created 0700 if
// needed (default: OTELSENTRY_SPOOL_DIR; off when empty). One process per
// directory.
func WithSpoolDir(dir string) Option { return func(c *config) { c.spool.dir = dir } }

// WithSpoolLimits bounds the error spool; a zero keeps that default
// (64 MiB or OTELSENTRY_SPOOL_MAX_BYTES, 10000 files, 24 h or
// OTELSENTRY_SPOOL_MAX_AGE). A full spool refuses new events; older ones
// expire after maxAge.
func WithSpoolLimits(maxBytes int64, maxFiles int, maxAge time.Duration) Option {
	return func(c *config) { c.spool.maxBytes, c.spool.maxFiles, c.spool.maxAge = maxBytes, maxFiles, maxAge }
}

var (
	errSpoolFull    = errors.New("error spool is full")
	errSpoolCorrupt = errors.New("corrupt error spool file")
)

// spool is a bounded directory of envelopes that could not be delivered,
// one file per envelope, named so that lexical order is capture order:
//
//	<seq, 20 digits>-<capture time, unix ns, 19 digits>-<category>.env
//
// A file is written whole or not at all: the envelope goes to a temporary
// file in the same directory, which is fsynced, renamed to its final name,
// and the directory is fsynced — so after a crash (kill -9, power loss) a
// final name always holds a complete envelope, and a leftover ".tmp-" file
// is an interrupted write, removed at the next open. Removals are not
// fsynced: a deletion lost in a crash only sends an envelope twice, and
// Sentry drops an event whose event_id it already has.
//
// Bounds: maxBytes and maxFiles. When full, the new envelope is refused
// (errSpoolFull) and older ones are kept: the oldest errors of an outage
// are usually its cause, and they expire on their own after maxAge.
//
// One process per directory: the spool does not lock it. Its methods are
// safe for concurrent use.
type spool struct {
	cfg spoolConfig

	mu       sync.Mutex
	entries  []spoolEntry // sorted by seq
	bytes    int64
	resBytes int64 // reserved by writes in progress
	resFiles int
	maxSeq   uint64

	expired atomic.Int64 // envelopes deleted for age
	corrupt atomic.Int64 // interrupted writes and unreadable files deleted
}

type spoolEntry struct {
	seq      uint64
	captured time.Time
	category string
	size     int64
	name     string
}

const (
	spoolSuffix    = ".env"
	spoolTmpPrefix = ".tmp-"
)

// openSpool creates the directory (0700: events hold user data) if needed
// and picks up what a previous process left: complete envelopes are queued
// for replay, interrupted writes are removed and counted as corrupt, and
// envelopes older than maxAge are removed and counted as expired. Files
// that are not the spool's are left alone.
func openSpool(cfg spoolConfig, now time.Time) (*spool, error) {
	if err := os.MkdirAll(cfg.dir, 0o700); err != nil {
		return nil, fmt.Errorf("telemetry: creating the error spool directory: %w", err)
	}
	des, err := os.ReadDir(cfg.dir)
	if err != nil {
		return nil, fmt.Errorf("telemetry: reading the error spool directory: %w", err)
	}
	s := &spool{cfg: cfg}
	for _, de := range des {
		name := de.Name()
		if !de.Type().IsRegular() {
			continue
		}
		if strings.HasPrefix(name, spoolTmpPrefix) {
			if os.Remove(filepath.Join(cfg.dir, name)) == nil {
				s.corrupt.Add(1)
			}
			continue
		}
		ent, ok := parseSpoolName(name)
		if !ok {
			continue
		}
		info, err := de.Info()
		if err != nil {
			continue // removed meanwhile
		}
		ent.size = info.Size()
		s.entries = append(s.entries, ent)
		s.bytes += ent.size
		s.maxSeq = max(s.maxSeq, ent.seq)
	}
	sort.Slice(s.entries, func(i, j int) bool { return s.entries[i].seq < s.entries[j].seq })
	s.expire(now)
	return s, nil
}

func spoolName(e *envelope) string {
	return fmt.Sprintf("%020d-%019d-%s%s", e.seq, max(e.captured.UnixNano(), 0), e.category, spoolSuffix)
}

func parseSpoolName(name string) (spoolEntry, bool) {
	base, ok := strings.CutSuffix(name, spoolSuffix)
	if !ok {
		return spoolEntry{}, false
	}
	parts := strings.SplitN(base, "-", 3)
	if len(parts) != 3 || len(parts[0]) != 20 || len(parts[1]) != 19 {
		return spoolEntry{}, false
	}
	seq, err1 := strconv.ParseUint(parts[0], 10, 64)
	ns, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || sanitizeCategory(parts[2]) != parts[2] {
		return spoolEntry{}, false
	}
	return spoolEntry{seq: seq, captured: time.Unix(0, ns), category: parts[2], name: name}, true
}

// lastSeq is the highest sequence number in the spool when it was opened,
// so that a new process numbers its envelopes after the old ones.
func (s *spool) lastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxSeq
}

// usage is the number of files and bytes in the spool.
func (s *spool) usage() (int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries), s.bytes
}

// put writes e durably. It returns errSpoolFull when the bounds leave no
// room, or the I/O error. syncDir false skips the directory fsync, for a
// batch that calls syncDirectory once at its end.
func (s *spool) put(e *envelope, syncDir bool) error {
	size := e.size()
	s.mu.Lock()
	if len(s.entries)+s.resFiles+1 > s.cfg.maxFiles || s.bytes+s.resBytes+size > s.cfg.maxBytes {
		s.mu.Unlock()
		return errSpoolFull
	}
	s.resFiles++
	s.resBytes += size
	s.mu.Unlock()

	name := spoolName(e)
	err := s.writeAtomic(name, e.stored(), syncDir)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.resFiles--
	s.resBytes -= size
	if err != nil {
		return err
	}
	ent := spoolEntry{seq: e.seq, captured: e.captured, category: e.category, size: size, name: name}
	i := sort.Search(len(s.entries), func(i int) bool { return s.entries[i].seq >= e.seq })
	s.entries = append(s.entries, spoolEntry{})
	copy(s.entries[i+1:], s.entries[i:])
	s.entries[i] = ent
	s.bytes += size
	return nil
}

func (s *spool) writeAtomic(name string, data []byte, syncDir bool) (err error) {
	f, err := os.CreateTemp(s.cfg.dir, spoolTmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("telemetry: writing to the error spool: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
			err = fmt.Errorf("telemetry: writing to the error spool: %w", err)
		}
	}()
	if _, err = f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(s.cfg.dir, name)); err != nil {
		return err
	}
	if syncDir {
		return s.syncDirectory()
	}
	return nil
}

// syncDirectory makes the renames in the directory durable.
func (s *spool) syncDirectory() error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be fsynced there; NTFS journals renames
	}
	d, err := os.Open(s.cfg.dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// next returns the oldest envelope that sendable accepts, removing the
// expired ones it passes.
func (s *spool) next(now time.Time, sendable func(category string) bool) (spoolEntry, bool) {
	var gone []string
	defer func() { s.removeFiles(gone) }()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < len(s.entries); {
		ent := s.entries[i]
		if now.Sub(ent.captured) > s.cfg.maxAge {
			gone = append(gone, ent.name)
			s.dropLocked(i)
			s.expired.Add(1)
			continue
		}
		if sendable(ent.category) {
			return ent, true
		}
		i++
	}
	return spoolEntry{}, false
}

// expire removes every envelope older than maxAge.
func (s *spool) expire(now time.Time) {
	var gone []string
	s.mu.Lock()
	for i := 0; i < len(s.entries); {
		if now.Sub(s.entries[i].captured) > s.cfg.maxAge {
			gone = append(gone, s.entries[i].name)
			s.dropLocked(i)
			s.expired.Add(1)
			continue
		}
		i++
	}
	s.mu.Unlock()
	s.removeFiles(gone)
}

// load reads an entry back. A file that is not a whole envelope is removed
// and counted as corrupt; sending it could never succeed.
func (s *spool) load(ent spoolEntry) (*envelope, error) {
	b, err := os.ReadFile(filepath.Join(s.cfg.dir, ent.name))
	if err == nil {
		var header, items []byte
		var id string
		if header, items, id, err = parseStoredEnvelope(b); err == nil {
			return &envelope{seq: ent.seq, captured: ent.captured, category: ent.category,
				eventID: id, header: header, items: items}, nil
		}
		s.corrupt.Add(1)
		err = fmt.Errorf("%w %s: %w", errSpoolCorrupt, ent.name, err)
	} else {
		err = fmt.Errorf("telemetry: reading the error spool: %w", err)
	}
	// Unreadable either way: forget it rather than retry it forever.
	s.remove(ent.seq)
	return nil, err
}

// remove deletes the envelope with sequence number seq. It leaves the index
// even if the file cannot be deleted, so it is not sent twice by this
// process.
func (s *spool) remove(seq uint64) {
	s.mu.Lock()
	i := sort.Search(len(s.entries), func(i int) bool { return s.entries[i].seq >= seq })
	if i == len(s.entries) || s.entries[i].seq != seq {
		s.mu.Unlock()
		return
	}
	name := s.entries[i].name
	s.dropLocked(i)
	s.mu.Unlock()
	s.removeFiles([]string{name})
}

func (s *spool) dropLocked(i int) {
	s.bytes -= s.entries[i].size
	s.entries = append(s.entries[:i], s.entries[i+1:]...)
}

func (s *spool) removeFiles(names []string) {
	for _, n := range names {
		_ = os.Remove(filepath.Join(s.cfg.dir, n))
	}
}
