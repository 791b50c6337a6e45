package redact_test

import (
	"fmt"
	"os"

	"github.com/otelsentry/otelsentry/processors/redact"
)

func Example() {
	e := redact.Default()

	// Free text: span names, exception messages, status descriptions.
	msg, changed := e.String("payment for alice@example.com failed: card 4111 1111 1111 1111 declined")
	fmt.Println(msg, changed)

	// Attribute values: the key decides first.
	pw, _ := e.Attr("db.password", "hunter2")
	route, _ := e.Attr("http.route", "/users/{id}")
	tokens, _ := e.Attr("gen_ai.usage.input_tokens", "812")
	fmt.Println(pw, route, tokens)

	// Redaction is idempotent.
	again, changed := e.String(msg)
	fmt.Println(again == msg, changed)

	// Output:
	// payment for [EMAIL_REDACTED] failed: card [CREDIT_CARD_REDACTED] declined true
	// [REDACTED] /users/{id} 812
	// true false
}

func ExampleEngine_Explain() {
	e := redact.Default()
	out, matches := e.Explain("", "GET https://app:s3cr3t@db.example.com/?token=abc from 203.0.113.7")
	fmt.Println(out)
	for _, m := range matches {
		fmt.Printf("%s [%d,%d)\n", m.Rule, m.Start, m.End)
	}
	// Output:
	// GET https://app:[REDACTED]@db.example.com/?token=[REDACTED] from [IP_REDACTED]
	// url_password [16,22)
	// query_secret [45,48)
	// ip [54,65)
}

func ExampleNew() {
	e, err := redact.New(redact.Config{
		Disable: []string{"phone"},
		HashKey: []byte(os.Getenv(redact.HashKeyEnv) + "example-only"),
		Modes:   map[string]redact.Mode{"credit_card": redact.ModeMask},
		Custom: []redact.CustomRule{
			{Name: "employee_id", Pattern: `EMP-[0-9]{6}`, Placeholder: "[EMPLOYEE_ID_REDACTED]"},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := e.String("EMP-004211 paid with 4242 4242 4242 4242, call +44 7700 900631")
	fmt.Println(out)
	// Output:
	// [EMPLOYEE_ID_REDACTED] paid with [CREDIT_CARD:…4242], call +44 7700 900631
}
