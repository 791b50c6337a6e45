package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/otelsentry/otelsentry/app"
)

// The service is an http.Handler plus a background scheduler with a
// lifecycle: Start it with a context, Close it on shutdown.
func Example() {
	svc, err := app.New(app.Config{Environment: "development", LatencyScale: 0.01})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc.Start(ctx)
	defer func() {
		cancel()
		_ = svc.Close(context.Background())
	}()

	req := httptest.NewRequest("POST", "/api/analyze", strings.NewReader(`{"company": "Tesla", "industry": "Automotive"}`))
	w := httptest.NewRecorder()
	svc.Handler().ServeHTTP(w, req)
	fmt.Println(w.Code == http.StatusOK, strings.Contains(w.Body.String(), `"status":"complete"`))
	// Output: true true
}
