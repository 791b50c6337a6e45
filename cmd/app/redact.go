package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/otelsentry/otelsentry/processors/redact"
)

// runRedact is `app redact [-rules FILE] [-jsonl] [-explain]`: a dry run
// of the redaction engine. It reads stdin and writes the redacted text to
// stdout. Each line is one telemetry string, redacted as a span name or an
// attribute value would be; with -jsonl each line is a JSON object whose
// "text" field is redacted — as the value of the attribute named by its
// "key" field when it has one — and whose other fields, their order and
// spacing, are kept. -explain reports on stderr, per line, which rule
// fired on which bytes (offsets into the line, or into "text"), never the
// bytes themselves.
//
// The engine is configured as the pipeline configures it: -rules defaults
// to $OTELSENTRY_REDACTION_CONFIG and the hash key comes from
// $OTELSENTRY_REDACTION_HASH_KEY. It returns the exit code: 0, 1 when the
// rules are bad or a line could not be read as JSON (it is then redacted
// as plain text), 2 on a usage error.
func runRedact(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("redact", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rules := fs.String("rules", os.Getenv("OTELSENTRY_REDACTION_CONFIG"), "YAML rules `file` (format: go doc ./processors/redact)")
	jsonl := fs.Bool("jsonl", false, `read JSON Lines and redact each object's "text" field (under its "key" field, if any)`)
	explain := fs.Bool("explain", false, "report on stderr which rule fired where (line, rule, byte offsets)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: app redact [-rules FILE] [-jsonl] [-explain] < input > output")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "redact: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}

	var cfg redact.Config
	if *rules != "" {
		var err error
		if cfg, err = redact.LoadConfigFile(*rules); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	if k := os.Getenv(redact.HashKeyEnv); k != "" {
		cfg.HashKey = []byte(k)
	}
	e, err := redact.New(cfg)
	if err != nil {
		if *rules != "" {
			fmt.Fprintf(stderr, "%v (rules file %s)\n", err, *rules)
		} else {
			fmt.Fprintln(stderr, err)
		}
		return 1
	}

	in := bufio.NewReaderSize(stdin, 64<<10)
	out := bufio.NewWriterSize(stdout, 64<<10)
	code := 0
	for n := 1; ; n++ {
		line, err := in.ReadString('\n')
		if line != "" {
			body, eol := splitEOL(line)
			var res string
			if *jsonl {
				var bad error
				res, bad = redactJSONLine(e, body, n, *explain, stderr)
				if bad != nil {
					fmt.Fprintf(stderr, "redact: line %d: %v; redacted as plain text\n", n, bad)
					code = 1
				}
			} else {
				res = redactPlain(e, "", body, n, *explain, stderr)
			}
			out.WriteString(res)
			out.WriteString(eol)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			out.Flush()
			fmt.Fprintf(stderr, "redact: reading stdin: %v\n", err)
			return 1
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(stderr, "redact: writing stdout: %v\n", err)
		return 1
	}
	return code
}

func splitEOL(line string) (body, eol string) {
	if b, ok := strings.CutSuffix(line, "\r\n"); ok {
		return b, "\r\n"
	}
	if b, ok := strings.CutSuffix(line, "\n"); ok {
		return b, "\n"
	}
	return line, ""
}

// redactPlain redacts s (as the value of key, when key is set) and, with
// explain, reports the matches of line n.
func redactPlain(e *redact.Engine, key, s string, n int, explain bool, stderr io.Writer) string {
	if !explain {
		if key != "" {
			out, _ := e.Attr(key, s)
			return out
		}
		out, _ := e.String(s)
		return out
	}
	out, ms := e.Explain(key, s)
	for _, m := range ms {
		fmt.Fprintf(stderr, "line %d: %s [%d,%d)\n", n, m.Rule, m.Start, m.End)
	}
	return out
}

// redactJSONLine redacts the "text" field of the JSON object in line,
// splicing the new value in place so that every other byte is kept. A line
// that is not a JSON object is redacted as plain text and reported.
func redactJSONLine(e *redact.Engine, line string, n int, explain bool, stderr io.Writer) (string, error) {
	if strings.TrimSpace(line) == "" {
		return line, nil
	}
	text, key, start, end, err := findText(line)
	if err != nil {
		return redactPlain(e, "", line, n, explain, stderr), err
	}
	if start < 0 {
		return line, nil // no "text" field: nothing of ours to redact
	}
	red := redactPlain(e, key, text, n, explain, stderr)
	if red == text {
		return line, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(red); err != nil {
		return redactPlain(e, "", line, n, explain, stderr), err
	}
	return line[:start] + strings.TrimSuffix(b.String(), "\n") + line[end:], nil
}

// findText returns the "text" and "key" string fields of the JSON object in
// line and the byte span of the text value; start is -1 when there is no
// string "text" field.
func findText(line string) (text, key string, start, end int, err error) {
	start = -1
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return "", "", -1, -1, fmt.Errorf("not a JSON object: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return "", "", -1, -1, errors.New("not a JSON object")
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return "", "", -1, -1, fmt.Errorf("not a JSON object: %w", err)
		}
		name, _ := kt.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "", "", -1, -1, fmt.Errorf("not a JSON object: %w", err)
		}
		switch name {
		case "text":
			var s string
			if json.Unmarshal(raw, &s) == nil {
				text = s
				end = int(dec.InputOffset())
				start = end - len(raw)
			}
		case "key":
			_ = json.Unmarshal(raw, &key)
		}
	}
	if _, err := dec.Token(); err != nil {
		return "", "", -1, -1, fmt.Errorf("not a JSON object: %w", err)
	}
	if dec.More() {
		return "", "", -1, -1, errors.New("not a JSON object: trailing data")
	}
	return text, key, start, end, nil
}
