// Package redaction compares the cost and the detection of otelsentry's
// redaction stage (processors.RedactSpan over the hand-written engine of
// processors/redact) with what a team would use instead: a Go regexp
// scrubber (internal/regexpscrub) and the OpenTelemetry Collector's
// redactionprocessor configured with the same rules, against a floor that
// only reads every byte once.
//
// Its tests are the whole of it: BenchmarkRedaction (sub-benchmark names
// engine=…/span=… are parsed by scripts/bench), TestRedactionEnginesAgree
// and TestCorpusDetection, which scores all three engines on the shared
// PII corpus and writes one line per engine to $BENCH_CORPUS_OUT when set.
package redaction
