// Package otlpwire counts the spans of an OTLP/protobuf trace export
// request by walking its wire format, without decoding it: the suite's
// receivers use it so that receiving costs little next to what is measured.
package otlpwire

import "google.golang.org/protobuf/encoding/protowire"

// CountSpans counts the spans of an ExportTraceServiceRequest:
// resource_spans (field 1) → scope_spans (2) → spans (2). It returns an
// error for a body that is not well-formed protobuf.
func CountSpans(b []byte) (int, error) {
	total := 0
	err := eachField(b, 1, func(rs []byte) error {
		return eachField(rs, 2, func(ss []byte) error {
			return eachField(ss, 2, func([]byte) error { total++; return nil })
		})
	})
	return total, err
}

// eachField calls fn with the payload of every length-delimited field num
// of message b, skipping the other fields.
func eachField(b []byte, num protowire.Number, fn func([]byte) error) error {
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return protowire.ParseError(l)
			}
			if err := fn(v); err != nil {
				return err
			}
			b = b[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, b)
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
	}
	return nil
}
