package fakebackend

import (
	"strconv"
	"testing"
)

func TestParseEnvelope(t *testing.T) {
	// The first payload holds a raw newline: only its length delimits it.
	payload := "{\"a\":\"x\ny\"}"
	body := "{\"event_id\":\"abc\",\"dsn\":\"http://k@h/42\"}\n" +
		"{\"type\":\"event\",\"length\":" + strconv.Itoa(len(payload)) + "}\n" + payload + "\n" +
		"{\"type\":\"client_report\"}\n{\"discarded_events\":[]}\n" +
		"{\"type\":\"attachment\",\"length\":0}\n\n"
	env, err := ParseEnvelope([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if env.Header["event_id"] != "abc" || len(env.Items) != 3 {
		t.Fatalf("envelope = %+v", env)
	}
	if string(env.Items[0].Payload) != "{\"a\":\"x\ny\"}" || env.Items[1].Type != "client_report" ||
		string(env.Items[1].Payload) != `{"discarded_events":[]}` || len(env.Items[2].Payload) != 0 {
		t.Errorf("items = %q / %q / %q", env.Items[0].Payload, env.Items[1].Payload, env.Items[2].Payload)
	}
	for _, bad := range []string{"not json\n", "{}\n{\"length\":3}\nabc\n", "{}\n{\"type\":\"event\",\"length\":10}\nabc\n"} {
		if _, err := ParseEnvelope([]byte(bad)); err == nil {
			t.Errorf("ParseEnvelope(%q) accepted a malformed envelope", bad)
		}
	}
}
