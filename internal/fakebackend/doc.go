// Package fakebackend holds the fake backends the project's tests talk to
// over real HTTP on 127.0.0.1: an OTLP/HTTP trace receiver and a fake Sentry
// (OTLP and envelope endpoints of one DSN). They decode the real protocols
// (OTLP protobuf, Sentry envelopes) and keep the raw decompressed bytes so
// tests can assert that planted secrets never reach the wire.
//
// It is internal: a test helper, not part of the library's surface.
package fakebackend
