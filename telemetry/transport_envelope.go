package telemetry

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/getsentry/sentry-go"
)

// envelope is one Sentry envelope, held in memory or loaded from the spool.
//
// The header is kept without "sent_at": Sentry corrects an event's
// timestamp by the difference between its receive time and sent_at, so an
// envelope replayed hours after capture must carry the time of the attempt,
// not of the capture. wire stamps it on every attempt. The header also never
// holds the DSN (sentry-go puts it there; it is optional for direct
// ingestion), so no spool file on disk contains a key.
type envelope struct {
	seq      uint64    // capture order; spool file names sort by it
	captured time.Time // the event's timestamp; the spool's max age counts from it
	category string    // Sentry data category, for rate limits ("error", "transaction", …)
	eventID  string
	header   []byte // JSON object, no sent_at, no dsn
	items    []byte // item headers and payloads, each line ending in '\n'
}

// storedHeader is the envelope header we write.
type storedHeader struct {
	EventID string            `json:"event_id,omitempty"`
	Sdk     map[string]string `json:"sdk,omitempty"`
	Trace   map[string]string `json:"trace,omitempty"`
}

// newEnvelope serialises ev. The items come from sentry-go's own
// Event.ToEnvelope, so item types, lengths and attachments are exactly what
// its transports send; only the envelope header is ours (see envelope).
func newEnvelope(ev *sentry.Event, now time.Time) (*envelope, error) {
	// ToEnvelope takes sentry-go's internal header type; nil is fine because
	// we write the header ourselves and use only the items.
	env, err := ev.ToEnvelope(nil)
	if err != nil {
		return nil, fmt.Errorf("serialising Sentry event %s: %w", ev.EventID, err)
	}
	var items bytes.Buffer
	for _, it := range env.Items {
		h, err := json.Marshal(it.Header)
		if err != nil {
			return nil, fmt.Errorf("serialising Sentry event %s: item header: %w", ev.EventID, err)
		}
		items.Write(h)
		items.WriteByte('\n')
		items.Write(it.Payload)
		items.WriteByte('\n')
	}
	hdr := storedHeader{EventID: string(ev.EventID), Trace: ev.GetDynamicSamplingContext()}
	if ev.Sdk.Name != "" {
		hdr.Sdk = map[string]string{"name": ev.Sdk.Name, "version": ev.Sdk.Version}
	}
	header, err := json.Marshal(hdr)
	if err != nil {
		return nil, fmt.Errorf("serialising Sentry event %s: envelope header: %w", ev.EventID, err)
	}
	captured := ev.Timestamp
	if captured.IsZero() {
		captured = now
	}
	return &envelope{
		captured: captured,
		category: sanitizeCategory(string(ev.GetCategory())),
		eventID:  string(ev.EventID),
		header:   header,
		items:    items.Bytes(),
	}, nil
}

// size is the envelope's size on disk.
func (e *envelope) size() int64 { return int64(len(e.header) + 1 + len(e.items)) }

// stored is the envelope as the spool keeps it.
func (e *envelope) stored() []byte {
	b := make([]byte, 0, e.size())
	b = append(b, e.header...)
	b = append(b, '\n')
	return append(b, e.items...)
}

// wire is the request body for an attempt at sentAt.
func (e *envelope) wire(sentAt time.Time) []byte {
	stamp := `{"sent_at":"` + sentAt.UTC().Format(time.RFC3339Nano) + `"`
	b := make([]byte, 0, len(stamp)+len(e.header)+2+len(e.items))
	b = append(b, stamp...)
	if rest := bytes.TrimSpace(e.header[1:]); len(rest) > 0 && rest[0] != '}' {
		b = append(b, ',')
	}
	b = append(b, e.header[1:]...)
	b = append(b, '\n')
	return append(b, e.items...)
}

var errBadEnvelope = errors.New("not a complete Sentry envelope")

// parseStoredEnvelope checks that b is a whole envelope as stored() writes
// it (a header object, then at least one item whose length, when given, is
// all there) and splits it. A file cut short fails here rather than reaching
// Sentry as a malformed request.
func parseStoredEnvelope(b []byte) (header, items []byte, eventID string, err error) {
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return nil, nil, "", fmt.Errorf("%w: no header line", errBadEnvelope)
	}
	header, items = b[:nl], b[nl+1:]
	var h storedHeader
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, "", fmt.Errorf("%w: header is not a JSON object", errBadEnvelope)
	}
	if err := json.Unmarshal(header, &h); err != nil {
		return nil, nil, "", fmt.Errorf("%w: header: %w", errBadEnvelope, err)
	}
	n, err := countItems(items)
	if err != nil {
		return nil, nil, "", err
	}
	if n == 0 {
		return nil, nil, "", fmt.Errorf("%w: no items", errBadEnvelope)
	}
	return header, items, h.EventID, nil
}

// countItems walks the items of an envelope body.
func countItems(b []byte) (int, error) {
	rd := bufio.NewReader(bytes.NewReader(b))
	n := 0
	for {
		line, err := rd.ReadBytes('\n')
		if err == io.EOF && len(line) == 0 {
			return n, nil
		}
		if err != nil && err != io.EOF {
			return n, err
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var ih struct {
			Type   string `json:"type"`
			Length *int   `json:"length"`
		}
		if err := json.Unmarshal(line, &ih); err != nil || ih.Type == "" {
			return n, fmt.Errorf("%w: item %d header", errBadEnvelope, n)
		}
		if ih.Length != nil {
			if *ih.Length < 0 {
				return n, fmt.Errorf("%w: item %d length", errBadEnvelope, n)
			}
			if _, err := io.CopyN(io.Discard, rd, int64(*ih.Length)); err != nil {
				return n, fmt.Errorf("%w: item %d payload cut short", errBadEnvelope, n)
			}
			if c, err := rd.ReadByte(); err == nil && c != '\n' {
				return n, fmt.Errorf("%w: item %d payload longer than its length", errBadEnvelope, n)
			}
		} else if _, err := rd.ReadBytes('\n'); err != nil && err != io.EOF {
			return n, err
		}
		n++
	}
}

// sanitizeCategory keeps a category usable in a file name.
func sanitizeCategory(c string) string {
	if c == "" {
		return "unknown"
	}
	for _, r := range c {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return "unknown"
		}
	}
	return strings.ToLower(c)
}
