package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// apiError is a client-facing error answered as {"error": …, "field": …}.
// Field names the offending input (a JSON field, "body", or a header) so a
// client can act on it without parsing the message.
type apiError struct {
	Status  int
	Message string
	Field   string
}

func (e *apiError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func badRequest(field, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Field: field, Message: fmt.Sprintf(format, args...)}
}

// errorBody is every error answer of the service.
type errorBody struct {
	Error     string `json:"error"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers status with the error body; the request ID comes from
// the response header the request-ID middleware set.
func writeError(w http.ResponseWriter, status int, msg, field string) {
	writeJSON(w, status, errorBody{Error: msg, Field: field, RequestID: w.Header().Get(requestIDHeader)})
}

func writeAPIError(w http.ResponseWriter, e *apiError) { writeError(w, e.Status, e.Message, e.Field) }

// decodeJSON reads exactly one JSON object of at most limit bytes into v,
// rejecting unknown fields, so a typo in a field name is a 400 that names it
// rather than a silently ignored option.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) *apiError {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &apiError{Status: http.StatusUnsupportedMediaType, Field: "Content-Type", Message: "Content-Type must be application/json"}
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, limit)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return decodeError(err, limit)
		}
		return badRequest("body", "unexpected data after the JSON object")
	}
	return nil
}

func decodeError(err error, limit int64) *apiError {
	var (
		tooLarge  *http.MaxBytesError
		syntax    *json.SyntaxError
		typeError *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return &apiError{Status: http.StatusRequestEntityTooLarge, Field: "body", Message: fmt.Sprintf("request body exceeds %d bytes", limit)}
	case errors.Is(err, io.EOF):
		return badRequest("body", "request body is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("body", "request body is truncated JSON")
	case errors.As(err, &syntax):
		return badRequest("body", "invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typeError):
		field := typeError.Field
		if field == "" {
			field = "body"
		}
		return badRequest(field, "must be a JSON %s", jsonKind(typeError.Type.Kind().String()))
	}
	// encoding/json reports unknown fields only as text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return badRequest(name, "unknown field")
	}
	return badRequest("body", "invalid JSON body")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	}
	return "number"
}
