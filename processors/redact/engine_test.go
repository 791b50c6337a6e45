package redact

import (
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
	"unsafe"
)

type strCase struct {
	name, in, want string
}

func runStringCases(t *testing.T, e *Engine, cases []strCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := e.String(tc.in)
			if got != tc.want {
				t.Errorf("String(%q)\n got: %q\nwant: %q", tc.in, got, tc.want)
			}
			if changed != (tc.in != tc.want) {
				t.Errorf("String(%q) changed=%v, want %v", tc.in, changed, tc.in != tc.want)
			}
			if again, _ := e.String(got); again != got {
				t.Errorf("not idempotent: %q → %q", got, again)
			}
		})
	}
}

func TestEmail(t *testing.T) {
	runStringCases(t, Default(), []strCase{
		{"punycode domain", "Письмо на адрес info@xn--80aswg.xn--p1ai не доставлено", "Письмо на адрес [EMAIL_REDACTED] не доставлено"},
		{"plain", "user alice@example.com failed", "user [EMAIL_REDACTED] failed"},
		{"plus tag", "jonas+promo@staff.example.edu", "[EMAIL_REDACTED]"},
		{"json", `{"email": "Chen.Tanaka@mail.example.com"}`, `{"email": "[EMAIL_REDACTED]"}`},
		{"escaped json", `{\"email\":\"a.b@example.org\"}`, `{\"email\":\"[EMAIL_REDACTED]\"}`},
		{"url encoded", "/verify?email=alice%40example.com&x=1", "/verify?email=[EMAIL_REDACTED]&x=1"},
		{"encoded plus", "alice%2Bpromo%40example.com", "[EMAIL_REDACTED]"},
		{"unicode escape", `"alice\u0040example.com"`, `"[EMAIL_REDACTED]"`},
		{"sentence end", "write to bob@example.co.uk.", "write to [EMAIL_REDACTED]."},
		{"npm scoped package", "installed @scope/pkg@1.2.3", "installed @scope/pkg@1.2.3"},
		{"module at version", "checkout%401.15.7", "checkout%401.15.7"},
		{"decorator", "@app.route('/login')", "@app.route('/login')"},
		{"no tld", "postgres@localhost", "postgres@localhost"},
		{"numeric tld", "lodash@4.17.21", "lodash@4.17.21"},
	})
}

func TestCreditCard(t *testing.T) {
	runStringCases(t, Default(), []strCase{
		{"visa", "card 4111111111111111 declined", "card [CREDIT_CARD_REDACTED] declined"},
		{"spaces", "PAN 4111 1111 1111 1111 ok", "PAN [CREDIT_CARD_REDACTED] ok"},
		{"dashes", "5555-5555-5555-4444", "[CREDIT_CARD_REDACTED]"},
		{"amex 4-6-5", "3787-344936-71000", "[CREDIT_CARD_REDACTED]"},
		{"diners 14", "38520000023237", "[CREDIT_CARD_REDACTED]"},
		{"maestro 19", "5020 6655 2723 4888 080", "[CREDIT_CARD_REDACTED]"},
		{"after number", "order 12 4111 1111 1111 1111", "order 12 [CREDIT_CARD_REDACTED]"},
		{"quoted", `'4012888888881881'`, `'[CREDIT_CARD_REDACTED]'`},
		{"luhn fails", "order 5554944084278513", "order 5554944084278513"},
		{"spaced luhn fails", "tracking number 6443 7506 0573 4584", "tracking number 6443 7506 0573 4584"},
		{"epoch millis", "ts=1753739583295", "ts=1753739583295"},
		{"epoch nanos", "t=1729078856123456789", "t=1729078856123456789"},
		{"too long", "USPS tracking 9400956887882523237697", "USPS tracking 9400956887882523237697"},
		{"no issuer", "id 9111111111111111", "id 9111111111111111"},
		{"glued to letters", "x4111111111111111", "x4111111111111111"},
		{"last four", "card ending in 4242 (visa)", "card ending in 4242 (visa)"},
		{"uuid digits", "a525cb56-ca54-4dd2-4111-111111111111", "a525cb56-ca54-4dd2-4111-111111111111"},
	})
}

func TestAPIKeys(t *testing.T) {
	e := Default()
	keys := []string{
		"sk_live_4eC39HqLyjWDarjtT1zdp7dc",
		"rk_test_51H8x2eKZ1a2b3c4d5e6f7g8h",
		"whsec_nDGhZP3wnMXMyT8UfB5JzXvfhMkVlyQf",
		"AKIAIOSFODNN7EXAMPLE",
		"ASIAY34FZKBOKMUTVV7A",
		"ghp_P8DCV3JB0njkzkvkRGA3BNNbqqt9nC0lLwxD",
		"gho_16C7e42F292c6912E7710c838347Ae178B4a",
		"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV",
		"glpat-xxxxXXXX1234yyyyZZZZ",
		"xoxb-386124591998-5107653621588-igFx3VAbo2CGstpE7fHxeSSo",
		"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",
		"sk-proj-fC8un7dllrhRZea0x_F41hBcVOmsrfLt3e_1GE72UrJsbfi80b6GWXSWltT3BlbkFJ",
		"sk-ant-api03-d6I08oLsvtfrTmG7rxnFXYhVxUpkgBxVg70-Rudy7nbzqaUHAKC",
		"AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
		"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",
		"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",
		"npm_abcdefghijklmnopqrstuvwxyz0123456789",
		"pypi-AgEIcHlwaS5vcmcJEq8uJy8HLHtvngNoDOpHMMFdpOxfaC5QOVkK4",
		"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",
		"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",
		"SK339900ea3d324cf4ce8afdbf0a543356",
		"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",
		"dop_v1_b29975e3b9169713dfcbdb763ae9fbb1ec33ad3ca79db3c0763e2032966470d5",
		"hvs.mOJLCOxuKjDXyjUu7cMMv90htGojIan97riUC04k",
		"dapicd1bf6fa01a48528e0158fd4ee09c1e9",
		"fry1Q~UjGd3Es0RnGATZzKRXXqOBAKPcUdiu4AiX",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
	}
	for _, k := range keys {
		in := "using " + k + " now"
		got, _ := e.String(in)
		if want := "using [API_KEY_REDACTED] now"; got != want {
			t.Errorf("String(%q)\n got: %q\nwant: %q", in, got, want)
		}
	}
	runStringCases(t, e, []strCase{
		{"aws secret spaced", "aws configure set aws_secret_access_key m589M8NXgR12QocA/7tT7n5AskBMGwpyXPjWX4YS",
			"aws configure set aws_secret_access_key [API_KEY_REDACTED]"},
		{"azure account key", "AccountName=x;AccountKey=HaBHN9CdOexZUa8k2qDe+kAdHWb/4SjL==;EndpointSuffix=core.windows.net",
			"AccountName=x;AccountKey=[API_KEY_REDACTED];EndpointSuffix=core.windows.net"},
		{"slack webhook", "posting to https://hooks.slack.com/services/T000/B000/XXXXXXXX failed",
			"posting to https://hooks.slack.com/services/[API_KEY_REDACTED] failed"},
		{"aws sigv4", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240611/us-east-1/s3/aws4_request, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
			"AWS4-HMAC-SHA256 Credential=[API_KEY_REDACTED]/20240611/us-east-1/s3/aws4_request, Signature=[REDACTED]"},
		// Shapes that must survive: IDs and hashes that only look random.
		{"trace id", "trace 4bf92f3577b34da6a3ce929d0e0e4736", "trace 4bf92f3577b34da6a3ce929d0e0e4736"},
		{"git sha", "vcs.revision=fe1e72c3337efd7b2b7cc26ee470137dc354315d", "vcs.revision=fe1e72c3337efd7b2b7cc26ee470137dc354315d"},
		{"sha256 digest", "image sha256:9b2f0c1e2d3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e", "image sha256:9b2f0c1e2d3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e"},
		{"stripe object ids", "customer cus_2w85qbFl1GPDT3 price_PUasnVrgePuzo3uObNa5uuNk", "customer cus_2w85qbFl1GPDT3 price_PUasnVrgePuzo3uObNa5uuNk"},
		{"base64 json state", "OAuth state=eyJyZXR1cm5UbyI6ICIvb3JkZXJzIn0", "OAuth state=eyJyZXR1cm5UbyI6ICIvb3JkZXJzIn0"},
		{"sri hash", "integrity=sha512-SsVRFos93wg712xpzIflGWfEyF1RGRiv9H9Shsya4QPCBBqIhYGxQObzOV++45ZkKMmmVwpARTkrHK+/wi//Xg==",
			"integrity=sha512-SsVRFos93wg712xpzIflGWfEyF1RGRiv9H9Shsya4QPCBBqIhYGxQObzOV++45ZkKMmmVwpARTkrHK+/wi//Xg=="},
		{"sk word", "sk-learn is a library", "sk-learn is a library"},
		{"short ghp", "ghp_short", "ghp_short"},
	})
}

func TestCredentials(t *testing.T) {
	runStringCases(t, Default(), []strCase{
		{"bearer", "Authorization: Bearer ONZbQnXLZH-3Vn9Gm4Rdlj3ba", "Authorization: Bearer [REDACTED]"},
		{"basic", "Proxy-Authorization: Basic cG9zdGdyZXM6YW5jaG9y", "Proxy-Authorization: Basic [REDACTED]"},
		{"token scheme", "Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "Authorization: Token [REDACTED]"},
		{"json header", `{"Authorization": "Bearer ya29.a0AfH6SMBx1234567890abcdef"}`, `{"Authorization": "Bearer [REDACTED]"}`},
		{"challenge", `www-authenticate: Bearer realm="https://auth.example.com/token",service="r"`, `www-authenticate: Bearer realm="https://auth.example.com/token",service="r"`},
		{"basic challenge", `WWW-Authenticate: Basic realm="admin", charset="UTF-8"`, `WWW-Authenticate: Basic realm="admin", charset="UTF-8"`},
		{"prose", "bearer token missing; basic configuration applied", "bearer token missing; basic configuration applied"},
		{"token bucket", "token bucket refill rate=452/s burst=75", "token bucket refill rate=452/s burst=75"},
		{"already", "Authorization: Bearer [REDACTED]", "Authorization: Bearer [REDACTED]"},
		{"go header map", "map[Authorization:[Bearer XpHpDIVwLVyPV-o4svb-ecz9agh] Accept:[*/*]]",
			"map[Authorization:[Bearer [REDACTED]] Accept:[*/*]]"},
		{"redis monitor", `1718101234.567890 [0 unix:/run/redis.sock] "AUTH" "Mon1tor-pw"`,
			`1718101234.567890 [0 unix:/run/redis.sock] "AUTH" "[REDACTED]"`},
		{"basic in json", `{"name":"authorization","value":"Basic YWRtaW46VHIxY2tsZS1TYXBwaGlyZSQ="}`,
			`{"name":"authorization","value":"Basic [REDACTED]"}`},
		{"json array header", `{"Authorization":["Basic cGFydG5lcjpMYW50ZXJu=="],"Accept":["*/*"]}`,
			`{"Authorization":["Basic [REDACTED]"],"Accept":["*/*"]}`},
		{"har cookie", `{"name":"Cookie","value":"sid=8RrWV3EM_VBTsqg7xwW1zkCDx; consent=granted"}`,
			`{"name":"Cookie","value":"sid=[REDACTED]; consent=[REDACTED]"}`},
		{"masked", `{"password": "***", "otp": "<redacted>"} SECRET_KEY = '********' amqp://guest:**@mq:5672// password = (sensitive value) user: [FILTERED]`,
			`{"password": "***", "otp": "<redacted>"} SECRET_KEY = '********' amqp://guest:**@mq:5672// password = (sensitive value) user: [FILTERED]`},
		{"mysql using password", "Access denied for user 'app'@'db' (using password: YES)", "Access denied for user 'app'@'db' (using password: YES)"},
		{"templates", "NPM_TOKEN: ${{ secrets.NPM_TOKEN }} password: {{ .Values.password }} api_token = %(api_token_1)s",
			"NPM_TOKEN: ${{ secrets.NPM_TOKEN }} password: {{ .Values.password }} api_token = %(api_token_1)s"},
		{"code refs", "token = client.fetch_token(url, client_secret=settings.CLIENT_SECRET)",
			"token = client.fetch_token(url, client_secret=settings.CLIENT_SECRET)"},
		{"redis auth message", "Redis AUTH failed: WRONGPASS invalid username-password pair", "Redis AUTH failed: WRONGPASS invalid username-password pair"},
		{"vault audit hmac", `"client_token": "hmac-sha256:5f1e0b7c9a2d4e6f8b3c1a0d9e8f7a6b"`, `"client_token": "hmac-sha256:5f1e0b7c9a2d4e6f8b3c1a0d9e8f7a6b"`},
		{"secret still redacted", `"client_token": "s.8Hk2mQ9xVbT4nP7w"`, `"client_token": "[REDACTED]"`},
		{"encoded query", "GET /login?redirect=https%3A%2F%2Fapp.example.com%2Fw%3Ftoken%3DDCVZsR7I5C2MOLQ2Bv%26lang%3Dde",
			"GET /login?redirect=https%3A%2F%2Fapp.example.com%2Fw%3Ftoken%3D[REDACTED]%26lang%3Dde"},
		{"shell variable", "helm upgrade api ./chart --set db.password=$DB_PASSWORD", "helm upgrade api ./chart --set db.password=$DB_PASSWORD"},
		{"environ subscript", `OpenAI(api_key=os.environ["OPENAI_API_KEY"])`, `OpenAI(api_key=os.environ["OPENAI_API_KEY"])`},
		{"auth placeholder", "ERR AUTH <password> called without any password configured", "ERR AUTH <password> called without any password configured"},
		{"smtp auth", "C: AUTH LOGIN", "C: AUTH LOGIN"},
		{"smtp auth plain", "C: AUTH PLAIN AGFsaWNlAFMzY3JldFBhc3M=", "C: AUTH PLAIN [REDACTED]"},
		{"auth after =", "cmd=AUTH default Rh4mnP0tato55", "cmd=AUTH [REDACTED]"},
		{"legacy sentry dsn", "DSN https://d7583736bf87c7b15965585b434070ca:770be8d9fcb91d3c63375bdfb84f0bf8@sentry.example.com/12",
			"DSN https://[REDACTED]:[REDACTED]@sentry.example.com/12"},
		{"xml password", "<user-name>app</user-name>\n<password>ZfP70xZNM_0b</password>", "<user-name>app</user-name>\n<password>[REDACTED]</password>"},
		{"xml password ref", "<password>${DB_PASSWORD}</password>", "<password>${DB_PASSWORD}</password>"},
		{"value on next line", "botocore.auth [DEBUG] Signature:\nb2121c506bac842f5fa229d4f62a0290\nnext", "botocore.auth [DEBUG] Signature:\n[REDACTED]\nnext"},
		{"python bytes", "{'X-Amz-Security-Token': b'IQoJb3JpZ2luX2VjE3jIbLBS9KKp'}", "{'X-Amz-Security-Token': b'[REDACTED]'}"},
		{"credentials token", `{"credentials":"4QyKSzvxswNTZbm4wcSVAlDt"}`, `{"credentials":"[REDACTED]"}`},
		{"masked ssn", `{"ssn":"***-**-6789"}`, `{"ssn":"***-**-6789"}`},
		{"auth template", "AUTH ${REDIS_PASSWORD}", "AUTH ${REDIS_PASSWORD}"},
		{"page token", "GET /v1/files?pageToken=CiAKGjBpNDd2Nmp2&pageSize=100", "GET /v1/files?pageToken=CiAKGjBpNDd2Nmp2&pageSize=100"},
		{"public key token", "Version=4.2.0.0, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a",
			"Version=4.2.0.0, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a"},

		{"set-cookie", "Set-Cookie: session=2Jh8jXc7mDYXbNP29GYPxcMIRj5x; Path=/; HttpOnly; Secure; SameSite=Lax",
			"Set-Cookie: session=[REDACTED]; Path=/; HttpOnly; Secure; SameSite=Lax"},
		{"cookie", "Cookie: theme=dark; sid=abc123", "Cookie: theme=dark; sid=[REDACTED]"},
		{"cookie settings", "Cookie: sessionid=pQ7xT2mLk9; django_language=de; lang=en-US",
			"Cookie: sessionid=[REDACTED]; django_language=de; lang=en-US"},

		// holdout23 and holdout24
		{"uri template", "GET /oauth/callback?code={code}&state={state}", "GET /oauth/callback?code={code}&state={state}"},
		{"format template", "https://app.example.com/reset?token={token}&email={email}", "https://app.example.com/reset?token={token}&email={email}"},
		{"braced value", "password={hunter2}", "password=[REDACTED]}"},
		{"secret array", `{"recovery_secret": ["bd9d391e2f", "50ca37dd5d"], "n": 2}`, `{"recovery_secret": ["[REDACTED]", "[REDACTED]"], "n": 2}`},
		{"secret array again", `{"recovery_secret": ["[REDACTED]", "50ca37dd5d"]}`, `{"recovery_secret": ["[REDACTED]", "[REDACTED]"]}`},
		{"redis pipeline", "redis: pipeline [AUTH Xq4vT9mLpR2z, SELECT 3, GET cart:1] failed",
			"redis: pipeline [AUTH [REDACTED], SELECT 3, GET cart:1] failed"},
		{"password confirmation", `{"password_confirmation":"c0rrect-h0rse"}`, `{"password_confirmation":"[REDACTED]"}`},
		{"secret key base", "SECRET_KEY_BASE: pgKljdWG8sgJkNm9JJA4 # signs cookies", "SECRET_KEY_BASE: [REDACTED] # signs cookies"},
		{"french", "mot de passe: Soleil#2024 (réinitialisé)", "mot de passe: [REDACTED] (réinitialisé)"},
		{"german", "Passwort=Sommer2024!", "Passwort=[REDACTED]"},
		{"russian", "Пароль: Zima2024", "Пароль: [REDACTED]"},
		{"spaced secret", "client_secret NKY5nv0DcFjcV8TUEdG4eja0 rejected", "client_secret [REDACTED] rejected"},
		{"spaced camel secret", "using apiKey 9f8e7d6c5b4a39281706f5e4 for the call", "using apiKey [REDACTED] for the call"},
		{"word token", "the token 4bf92f3577b34da6a3ce929d0e0e4736 expired", "the token 4bf92f3577b34da6a3ce929d0e0e4736 expired"},
		{"spaced id", "user_id 9f8e7d6c5b4a39281706f5e4 logged in", "user_id 9f8e7d6c5b4a39281706f5e4 logged in"},
		{"1password", `1Password: item "deploy key" moved`, `1Password: item "deploy key" moved`},
		{"quoted phrase", `LDAP Result Code 49 "Invalid Credentials": 80090308: LdapErr`, `LDAP Result Code 49 "Invalid Credentials": 80090308: LdapErr`},
		{"message word", "nonce mismatch in id_token: expected n-0S6_WzA2Mj, got n-9Kx2", "nonce mismatch in id_token: expected n-0S6_WzA2Mj, got n-9Kx2"},
		// holdout22
		{"versioned name", `"ses_smtp_password_v4": "BQs7bLzS4mHheJ9A/CA0b+z"`, `"ses_smtp_password_v4": "[REDACTED]"`},
		{"numbered name", "password2=Sommer2024", "password2=[REDACTED]"},
		{"table secret", "access_key         AKIAMOS7YDSCYPLJD4S4\nsecret_key         9QnsA0xAGLObq4Dzsmw7cpMJZCn58NVuiHLcFkLT\n",
			"access_key         [API_KEY_REDACTED]\nsecret_key         [REDACTED]\n"},
		{"azure key list", `[{"keyName": "key1", "permissions": "FULL", "value": "2aTPpjMTV3PlskJugENSxV7dfLilcKsX5IhgK7g/3nutEBsNQuS5PfeGt4P4QaEyrxBUmmNmI9zveNsgeA/1LA=="}]`,
			`[{"keyName": "key1", "permissions": "FULL", "value": "[API_KEY_REDACTED]"}]`},
		{"arm parameter", "\"adminPassword\": {\n  \"value\": \"Vm#Adm1n-rotate-q3\"\n}", "\"adminPassword\": {\n  \"value\": \"[REDACTED]\"\n}"},
		{"arm declaration", "\"adminPassword\": {\n  \"type\": \"securestring\",\n  \"minLength\": 12\n}", "\"adminPassword\": {\n  \"type\": \"securestring\",\n  \"minLength\": 12\n}"},
		{"preshared key", `tunnel1_preshared_key = "Vpn-PSK-Tunnel1-Xk"`, `tunnel1_preshared_key = "[REDACTED]"`},
		{"client request token", `"ClientRequestToken": "Console-CreateStack-7f3c2e1a"`, `"ClientRequestToken": "Console-CreateStack-7f3c2e1a"`},
		{"credentials path", "Rotation succeeded for secret prod/ledger/db-credentials: staged version 7f3c2e1a moved",
			"Rotation succeeded for secret prod/ledger/db-credentials: staged version 7f3c2e1a moved"},
		{"one-digit quad", "Installing tools (vSphere 8.0.2.0); plugin amazon 1.3.1.1", "Installing tools (vSphere 8.0.2.0); plugin amazon 1.3.1.1"},
		{"one-digit quad as an address", "nameserver 8.8.8.8; dial tcp 1.2.3.4:443; ip=5.6.7.8; http://9.9.9.9/x; 1.2.3.0/24",
			"nameserver [IP_REDACTED]; dial tcp [IP_REDACTED]:443; ip=[IP_REDACTED]; http://[IP_REDACTED]/x; [IP_REDACTED]/24"},
		// holdout26
		{"k8s env entry", "env:\n  - name: AWS_SECRET_ACCESS_KEY\n    value: \"wMe62eIyXf0QyZ81smCdzcUtNiBZOQ21ffpdc+qb\"\n  - name: LOG_LEVEL\n    value: debug",
			"env:\n  - name: AWS_SECRET_ACCESS_KEY\n    value: \"[REDACTED]\"\n  - name: LOG_LEVEL\n    value: debug"},
		{"pem placeholder", "-----BEGIN PRIVATE KEY-----[PRIVATE_KEY_REDACTED]-----END PRIVATE KEY-----",
			"-----BEGIN PRIVATE KEY-----[PRIVATE_KEY_REDACTED]-----END PRIVATE KEY-----"},
		// holdout27
		{"ruby hash", `config: {"adapter"=>"postgresql", "password"=>"Ic.G_s!XnqY9", "pool"=>5}`, `config: {"adapter"=>"postgresql", "password"=>"[REDACTED]", "pool"=>5}`},
		{"php print_r", "Array\n(\n    [username] => crm\n    [password] => ^g6PlK!GOj_lu\n)", "Array\n(\n    [username] => crm\n    [password] => [REDACTED]\n)"},
		{"php var_dump", "[\"password\"]=>\n  string(17) \"wCKtGARgVa9EeoH#O\"\n", "[\"password\"]=>\n  string(17) \"[REDACTED]\"\n"},
		{"go url.Values", `Form:url.Values{"grant_type":[]string{"password"}, "password":[]string{"i29bE+jag^So-"}}`, `Form:url.Values{"grant_type":[]string{"password"}, "password":[]string{"[REDACTED]"}}`},
		{"erlang tuple", `{auth_failure,[{user,<<"ops">>},{password,<<"JtjuKby8V5Ahsv2Ft">>}]}`, `{auth_failure,[{user,<<"ops">>},{password,<<"[REDACTED]">>}]}`},
		{"go pointer", "session=(*sessions.Session)(0xc00018e3c0)", "session=(*sessions.Session)(0xc00018e3c0)"},
		{"js undefined", "{ password: undefined, remember: false }", "{ password: undefined, remember: false }"},
		{"validation message", `{'password': ['Shorter than minimum length 12.']}`, `{'password': ['Shorter than minimum length 12.']}`},
		{"masks", "Authorization: [Redacted] password: **redacted**", "Authorization: [Redacted] password: **redacted**"},
		{"erlang date", "=CRASH REPORT==== 9-May-2024::07:29:33.123456 ===", "=CRASH REPORT==== 9-May-2024::07:29:33.123456 ==="},
		// holdout25
		{"honeycomb", `"x-honeycomb-team": "hcaik_01i02y6p4339d3d6u67qv35m2l0mv7edwdyqtcyv45y9bpjtpz6lgbojj7"`, `"x-honeycomb-team": "[REDACTED]"`},
		{"honeycomb key alone", "key hcaik_01i02y6p4339d3d6u67qv35m2l0mv7edwdyqtcyv45y9bpjtpz6lgbojj7 rejected", "key [API_KEY_REDACTED] rejected"},
		{"toml triple quotes", `password = """Vxh0fruNBUWzAtUI"""`, `password = """[REDACTED]"""`},
		{"sentry_key", "POST /api/4505987/envelope/?sentry_key=365b1338e6e5d0fdadada5551c2b613b&sentry_version=7", "POST /api/4505987/envelope/?sentry_key=[REDACTED]&sentry_version=7"},
		{"license key", "NEW_RELIC_LICENSE_KEY=7f44472b5f256c571765f531131f2fcfc052NRAL NEW_RELIC_APP_NAME=checkout", "NEW_RELIC_LICENSE_KEY=[REDACTED] NEW_RELIC_APP_NAME=checkout"},
		{"routing key", "- routing_key: 71758ff6c7aae7fbe13e1e73090b815d", "- routing_key: [REDACTED]"},
		{"fluent config", "  apikey      1d66bc2cf34bc6d7911bbf3b3df611b6\n  password 89KXVB4H28lrjN15\n  shared_key XXEaJwd1mjivhfTCOUG7WnOt0h0ZYUds",
			"  apikey      [REDACTED]\n  password [REDACTED]\n  shared_key [REDACTED]"},
		{"prose after password", "password 4 characters too short", "password 4 characters too short"},
		{"debug exporter auth", "-> db.statement: Str(AUTH jlF229NttrpapTdQhjK38G)", "-> db.statement: Str(AUTH [REDACTED])"},
		{"encoded baggage phone", "baggage=user.phone%3D%2B14155550123%2Cplan%3Dpro", "baggage=user.phone%3D[PHONE_REDACTED]%2Cplan%3Dpro"},
		// holdout28
		{"dashed product token", "okhttp/4.12.0 acme-android/5.3.0.40", "okhttp/4.12.0 acme-android/5.3.0.40"},
		{"host before a slash", "worker-2/10.0.0.5 ip-10-0-1-23/10.0.0.6", "worker-2/[IP_REDACTED] ip-10-0-1-23/[IP_REDACTED]"},
		// holdout29
		{"rcon password", `[RCON] rcon_password "S3rv3rAdm!n" set; command "rcon_password Rc0nMaster#9"`, `[RCON] rcon_password "[REDACTED]" set; command "rcon_password [REDACTED]"`},
		{"password then prose", "changed password successfully; password reset-link sent", "changed password successfully; password reset-link sent"},
		{"aws configure", "AWS Access Key ID [None]: AKIAMOS7YDSCYPLJD4S4\nAWS Secret Access Key [None]: sx6SvtsymJxngpTs8jz5jimZVvnqyFh4giIwAYxA\n",
			"AWS Access Key ID [None]: [API_KEY_REDACTED]\nAWS Secret Access Key [None]: [API_KEY_REDACTED]\n"},
		{"sdk version", "EOS SDK 1.16.3.0 initialised", "EOS SDK 1.16.3.0 initialised"},
		// holdout31
		{"pdo args", "#0 /var/www/lib/Db.php(31): PDO->__construct('mysql:host=db;dbname=sis', 'sis', 'Pa$$w0rd-Canvas')",
			"#0 /var/www/lib/Db.php(31): PDO->__construct('mysql:host=db;dbname=sis', 'sis', '[REDACTED]')"},
		{"other call args", "#1 Cache->get('user', 'sis', 'profile')", "#1 Cache->get('user', 'sis', 'profile')"},
		{"appSettings", `<add key="ReportingServicePassword" value="Zq8*tY3!pW0v" />`, `<add key="ReportingServicePassword" value="[REDACTED]" />`},
		{"appSettings clean", `<add key="ReportingServiceUrl" value="https://reports.example.edu/" />`, `<add key="ReportingServiceUrl" value="https://reports.example.edu/" />`},
		// holdout30
		{"error class", `psycopg2.errors.InvalidPassword: password authentication failed for user "fleet_app"`, `psycopg2.errors.InvalidPassword: password authentication failed for user "fleet_app"`},
		{"value key at the start", `value": "x"`, `value": "x"`},
		{"account number, not a phone", "payout failed: DE27 0989 4273 3442 8776 36 has invalid check digits", "payout failed: DE27 0989 4273 3442 8776 36 has invalid check digits"},
		{"sentry org token", "--auth-token sntrys_GZXGgy3VwtWAdUH-1_KCF0WYcWjevbjUbXvzcsAmN1LTg9EM3KA", "--auth-token [API_KEY_REDACTED]"},

		{"pem", "key: -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAq9236p4x\nJqu8pQcJJITe\n-----END RSA PRIVATE KEY----- loaded",
			"key: [PRIVATE_KEY_REDACTED] loaded"},
		{"pem json", `"private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIB\n-----END PRIVATE KEY-----\n"`,
			`"private_key": "[REDACTED]"`},
		{"pem yaml", "tls:\n  key: |\n    -----BEGIN EC PRIVATE KEY-----\n    MHcCAQEEIBkg\n    -----END EC PRIVATE KEY-----\n  cert: x",
			"tls:\n  key: |\n    [PRIVATE_KEY_REDACTED]\n  cert: x"},
		{"pem truncated", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA", "[PRIVATE_KEY_REDACTED]"},
		{"certificate kept", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"},

		{"postgres url", "postgres://app:s3cr3t@db:5432/x", "postgres://app:[REDACTED]@db:5432/x"},
		{"mongodb srv", "mongodb+srv://backup:Quartz2508%3Dw@cluster0.mongodb.net/p?w=majority", "mongodb+srv://backup:[REDACTED]@cluster0.mongodb.net/p?w=majority"},
		{"redis no user", "redis://:hunter2@cache:6379/0", "redis://:[REDACTED]@cache:6379/0"},
		{"go mysql dsn", "dsn root:pa55w0rd@tcp(db:3306)/shop?parseTime=true", "dsn root:[REDACTED]@tcp(db:3306)/shop?parseTime=true"},
		{"sentry dsn", "https://902417da71f9b0271e10d57c74109916@o564907.ingest.sentry.io/7170468", "https://[REDACTED]@o564907.ingest.sentry.io/7170468"},
		{"encoded email user", "smtp://billing%40example.com:pw@smtp.example.com:587", "smtp://[EMAIL_REDACTED]:[REDACTED]@smtp.example.com:587"},
		{"ssh user kept", "ssh://git@github.com/acme/repo.git", "ssh://git@github.com/acme/repo.git"},
		{"url no creds", "redis://cache.internal:6379/0", "redis://cache.internal:6379/0"},

		{"oauth code kept", "GET /cb?code=4/0AX4XfWh&state=xyz", "GET /cb?code=4/0AX4XfWh&state=xyz"},
		{"query several", "https://x.example/p?a=1&access_token=abc.def&api_key=k1&key=k2#frag",
			"https://x.example/p?a=1&access_token=[REDACTED]&api_key=[REDACTED]&key=[REDACTED]#frag"},
		{"presigned", "https://b.s3.amazonaws.com/o?X-Amz-Credential=AKIA%2F2024&X-Amz-Signature=fe5f80f77d5fa3be",
			"https://b.s3.amazonaws.com/o?X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]"},
		{"query key word only in query", "partition key=user-42 moved", "partition key=user-42 moved"},

		{"password kv", "login failed for user=bob password=Tundra5753+9 reason=bad", "login failed for user=bob password=[REDACTED] reason=bad"},
		{"json password", `{"username": "ole", "password": "q==lyZ*CN~K~8pyR"}`, `{"username": "ole", "password": "[REDACTED]"}`},
		{"yaml secret", "client_id: portal\nclient_secret: OoTVt0A96QIwz\nredirect: x", "client_id: portal\nclient_secret: [REDACTED]\nredirect: x"},
		{"env glued", "PGPASSWORD=Velvet5602=n psql", "PGPASSWORD=[REDACTED] psql"},
		{"flag", "mysql --password=n_v8cuY-pezN -e 'x'", "mysql --password=[REDACTED] -e 'x'"},
		{"camel", "--set secrets.apiToken=abc123 --wait", "--set secrets.apiToken=[REDACTED] --wait"},
		{"spaced ini", "aws_secret_access_key = VSD3gRq8XQhU4nQaxGBstI+dBja7PyNbBsAdc9TX", "aws_secret_access_key = [REDACTED]"},
		{"header", "X-API-Key: dop_v1_abc", "X-API-Key: [REDACTED]"},
		{"pwd dir", "PWD=/home/app", "PWD=/home/app"},
		{"placeholder value", `{"password": "[REDACTED]"}`, `{"password": "[REDACTED]"}`},
		{"word only", "password policy updated (min length 12)", "password policy updated (min length 12)"},
		{"keyerror", "KeyError: 'token'", "KeyError: 'token'"},
		{"tokens count", "gen_ai.usage.input_tokens=812", "gen_ai.usage.input_tokens=812"},
		{"near miss", "password_changed_at=2024-06-11 token.type=bearer", "password_changed_at=2024-06-11 token.type=bearer"},

		{"identified by", "ALTER USER 'reporter'@'%' IDENTIFIED BY 'violet-violet'", "ALTER USER 'reporter'@'%' IDENTIFIED BY '[REDACTED]'"},
		{"sql password", "CREATE ROLE app WITH LOGIN PASSWORD 'it''s-secret'", "CREATE ROLE app WITH LOGIN PASSWORD '[REDACTED]'"},
		{"redis auth", "AUTH default s3cr3t", "AUTH [REDACTED]"},
		{"sql placeholders", "UPDATE users SET password_hash = $1 WHERE id = $2", "UPDATE users SET password_hash = $1 WHERE id = $2"},
		{"sql bind secret", "UPDATE users SET password = $1, api_key = ?, token = :tok WHERE id = @id", "UPDATE users SET password = $1, api_key = ?, token = :tok WHERE id = @id"},
		{"template reference", "password: ${DB_PASSWORD}", "password: ${DB_PASSWORD}"},
		{"template holding a key", "token=${ghp_P8DCV3JB0njkzkvkRGA3BNNbqqt9nC0lLwxD}", "token=[REDACTED]"},

		{"mysql -p", "exec: mysql -h db-1 -u bi_admin -pK9xv2Lq7Tz analytics", "exec: mysql -h db-1 -u bi_admin -p[REDACTED] analytics"},
		{"mysqldump -p quoted", "mysqldump -u root -p'Wh1te Rabbit' shop", "mysqldump -u root -p'[REDACTED]' shop"},
		{"mysql -p prompts", "mysql -u root -p shop", "mysql -u root -p shop"},
		{"-p of another command", "ssh -p2222 deploy@bastion", "ssh -p2222 deploy@bastion"},
		{"curl -u", "curl -u svc-export:Exp0rt!Pass https://bi.example.com/x", "curl -u svc-export:[REDACTED] https://bi.example.com/x"},
		{"curl --user", `curl -sS --user "ops:Tr4in Set" https://x.example.com`, `curl -sS --user "ops:[REDACTED]" https://x.example.com`},
		{"curl -u prompts", "curl -u ops https://x.example.com", "curl -u ops https://x.example.com"},
		{"curl --user-agent", "curl --user-agent probe:1 https://x.example.com", "curl --user-agent probe:1 https://x.example.com"},
		{"docker -u", "docker run -u 1000:1000 alpine", "docker run -u 1000:1000 alpine"},
		{"credentials naming variables", "rotate credentials: GITHUB_TOKEN, NPM_TOKEN", "rotate credentials: GITHUB_TOKEN, NPM_TOKEN"},
		{"credentials holding one", "credentials: Zq8_pLm2xR", "credentials: [REDACTED]"},
		{"pem after a bare name", "JWT_PRIVATE_KEY=-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAGLRejd\n-----END RSA PRIVATE KEY-----\nPORT=8080",
			"JWT_PRIVATE_KEY=[PRIVATE_KEY_REDACTED]\nPORT=8080"},
		{"k8s variable in a url", "value: postgres://app:$(POSTGRES_PASSWORD)@pg.example.com:5432/app", "value: postgres://app:$(POSTGRES_PASSWORD)@pg.example.com:5432/app"},
		{"template in a url", "postgres://app:${PG_PASSWORD}@pg.example.com/app", "postgres://app:${PG_PASSWORD}@pg.example.com/app"},
		{"helm existingSecret", "existingSecret: postgres-credentials", "existingSecret: postgres-credentials"},
		{"kubectl describe secret", "Data\n====\npassword:  24 bytes\nusername:  8 bytes", "Data\n====\npassword:  24 bytes\nusername:  8 bytes"},
		{"actions permission", "permissions:\n  id-token: write\n  contents: read", "permissions:\n  id-token: write\n  contents: read"},
		{"graphql variables", `mutation R($token: String!, $password: String!) { reset(token: $token, password: $password) { ok } }`,
			`mutation R($token: String!, $password: String!) { reset(token: $token, password: $password) { ok } }`},
		{"graphql literal", `mutation { reset(token: "Zq8pLm2xR4", password: "hunter2!") { ok } }`, `mutation { reset(token: "[REDACTED]", password: "[REDACTED]") { ok } }`},
		{"compose required variable", "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}", "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"},
		{"default value is a value", "DB_PASSWORD=${DB_PASSWORD:-Hunt3r2}", "DB_PASSWORD=[REDACTED]"},
		{"pipeline macro", "ARM_CLIENT_SECRET: $(armClientSecret)", "ARM_CLIENT_SECRET: $(armClientSecret)"},
		{"config provider", `password="${file:/opt/kafka/secrets.properties:sasl.password}";`, `password="${file:/opt/kafka/secrets.properties:sasl.password}";`},
		{"entry of a secret", "  - secretKey: password\n    remoteRef:", "  - secretKey: password\n    remoteRef:"},
		{"secret key holding one", "secretKey: wJalrXUtnFEMI/K7MDENG", "secretKey: [REDACTED]"},
		{"password with a hash sign", "cannot connect to postgresql://billing:Vx8#qL2m@db.example.com:5432/billing",
			"cannot connect to postgresql://billing:[REDACTED]@db.example.com:5432/billing"},
		{"fragment after a host", "see https://docs.example.com:443/page#section?x=1 and http://host:8080#top", "see https://docs.example.com:443/page#section?x=1 and http://host:8080#top"},
		{"error prose after a name", "ExpiredToken: The security token included in the request is expired; password: must be at least 12 characters",
			"ExpiredToken: The security token included in the request is expired; password: must be at least 12 characters"},
		{"ws-security password", `<wsse:UsernameToken><wsse:Username>svc</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss#PasswordText">S0ap-Pa55!</wsse:Password></wsse:UsernameToken>`,
			`<wsse:UsernameToken><wsse:Username>svc</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss#PasswordText">[REDACTED]</wsse:Password></wsse:UsernameToken>`},
		{"self-closing element", `<password required="true"/> <token/>`, `<password required="true"/> <token/>`},
		{"dkim signature", "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel1; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
			"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel1; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
		{"loose json", "{\"username\":\"svc\", \"password\" :\t\"N0t-S0-S3cret!\"}", "{\"username\":\"svc\", \"password\" :\t\"[REDACTED]\"}"},
		{"pem header in prose", "expected -----BEGIN PRIVATE KEY----- header, found none", "expected -----BEGIN PRIVATE KEY----- header, found none"},
		{"credential scope after a placeholder", "X-Amz-Credential=[REDACTED]%2F20240517%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240517T120000Z",
			"X-Amz-Credential=[REDACTED]%2F20240517%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240517T120000Z"},
		{"placeholder then a secret", "token=[REDACTED]%2Fghp_P8DCV3JB0njkzkvkRGA3BNNbqqt9nC0lLwxD", "token=[REDACTED]"},
		{"mysql legacy password()", "SET PASSWORD FOR 'etl'@'%' = PASSWORD('N0rth-W1nd-88')", "SET PASSWORD FOR 'etl'@'%' = PASSWORD('[REDACTED]')"},
		{"pan in text", "authorization approved pan=505373412509 amount=1159.61", "authorization approved pan=[REDACTED] amount=1159.61"},
		{"ssn query name", "GET /hr/verify?social_security_number=318447219&dob=1984-07-12", "GET /hr/verify?social_security_number=[REDACTED]&dob=1984-07-12"},
	})
}

func TestNetworkAndIDs(t *testing.T) {
	runStringCases(t, Default(), []strCase{
		{"ipv4", "X-Forwarded-For: 93.31.167.1, 10.89.48.3", "X-Forwarded-For: [IP_REDACTED], [IP_REDACTED]"},
		{"ipv4 port", "dial 10.0.0.12:5432 refused", "dial [IP_REDACTED]:5432 refused"},
		{"ipv4 url", "GET http://192.0.2.9/healthz", "GET http://[IP_REDACTED]/healthz"},
		{"ipv4 after userinfo", "dsn=postgres://app:pw@192.0.2.31:5432/db", "dsn=postgres://app:[REDACTED]@[IP_REDACTED]:5432/db"},
		{"version after @", "pkg@1.2.3.4", "pkg@1.2.3.4"},
		{"user@private address", "orders/app@10.0.3.14:53422 login; admin@192.168.4.2 on", "orders/app@[IP_REDACTED]:53422 login; admin@[IP_REDACTED] on"},
		{"user@address:port", "svc@198.51.100.7:5432", "svc@[IP_REDACTED]:5432"},
		{"arn secret", "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf",
			"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf"},
		{"ipv6 full", "from 2001:0db8:a1c7:e46a:0000:0000:7dee:f462 ok", "from [IP_REDACTED] ok"},
		{"ipv6 short", "for=\"[2001:db8:1b0f::4b9a:d536]:4711\"", "for=\"[[IP_REDACTED]]:4711\""},
		{"ipv6 mapped", "[::ffff:188.171.193.125]", "[[IP_REDACTED]]"},
		{"ipv6 link local", "fe80::1ff:fe23:4567:890a%eth0", "[IP_REDACTED]%eth0"},
		{"version word", "version 1.2.3.4", "version 1.2.3.4"},
		{"version v", "v1.2.3.4", "v1.2.3.4"},
		{"user agent", "Chrome/120.0.0.0 Safari/537.36", "Chrome/120.0.0.0 Safari/537.36"},
		{"octet range", "build 1.2.3.400", "build 1.2.3.400"},
		{"times", "at 09:12:44 +0000", "at 09:12:44 +0000"},
		{"cpp path", "std::vector::push_back", "std::vector::push_back"},
		{"kernel", "kernel 6.8.0-1060-aws", "kernel 6.8.0-1060-aws"},

		{"iban compact", "payout to DE89370400440532013000 rejected", "payout to [IBAN_REDACTED] rejected"},
		{"iban grouped", "GB82 WEST 1234 5698 7654 32", "[IBAN_REDACTED]"},
		{"iban bad checksum", "DE89370400440532013001", "DE89370400440532013001"},
		{"iban lower case", "iban=de89370400440532013000&currency=eur", "iban=[IBAN_REDACTED]&currency=eur"},
		{"iban lower case grouped", "account gb82 west 1234 5698 7654 32 verified", "account [IBAN_REDACTED] verified"},
		{"iban mixed case", "De89370400440532013000", "De89370400440532013000"},

		{"ssn", "SSN 554-05-5356 on file", "SSN [SSN_REDACTED] on file"},
		{"ssn area 666", "666-05-5356", "666-05-5356"},
		{"ssn area 9xx", "912-05-5356", "912-05-5356"},
		{"date", "2024-06-11", "2024-06-11"},

		{"phone e164", "voice call to +447700900631 done", "voice call to [PHONE_REDACTED] done"},
		{"phone intl grouped", "+1 (212) 555-0180", "[PHONE_REDACTED]"},
		{"phone encoded", "to=%2B447700900631&x=1", "to=[PHONE_REDACTED]&x=1"},
		{"phone nanp", "call 303-555-0145 now", "call [PHONE_REDACTED] now"},
		{"phone paren", "(312) 555-0193", "[PHONE_REDACTED]"},
		{"phone 00 prefix", "callback 0044 20 7946 0958 set", "callback [PHONE_REDACTED] set"},
		{"phone 00 dashes", "call 0049-30-1234567 now", "call [PHONE_REDACTED] now"},
		{"00 not a country code", "id 0012 3456 7890", "id 0012 3456 7890"},
		{"phone national", "number 020 7946 0321 for region GB", "number [PHONE_REDACTED] for region GB"},
		{"phone national mobile", "sent to 07700 900461 ok", "sent to [PHONE_REDACTED] ok"},
		{"phone pairs", "le numéro 06 41 27 90 59 à l'accueil, ou 01.42.68.53.00", "le numéro [PHONE_REDACTED] à l'accueil, ou [PHONE_REDACTED]"},
		{"version with build suffix", "Node.js v20.17.0, V8 11.3.244.8-node.23", "Node.js v20.17.0, V8 11.3.244.8-node.23"},
		{"fingerprint", "SHA256 Fingerprint=5E:FF:56:A2:AF:15:88:25:35:06:0F:DE:47:C1:D2:18", "SHA256 Fingerprint=5E:FF:56:A2:AF:15:88:25:35:06:0F:DE:47:C1:D2:18"},
		{"previous version", "version 1.2.3.4 (previous 1.2.2.9)", "version 1.2.3.4 (previous 1.2.2.9)"},
		{"image density", "GET /static/img/logo@2x.png 304", "GET /static/img/logo@2x.png 304"},
		{"host/ip", "Node:         worker-2/192.168.49.3", "Node:         worker-2/[IP_REDACTED]"},
		{"trunk in brackets", "Rückruf unter +49 (0)30 1234 5678", "Rückruf unter [PHONE_REDACTED]"},
		{"email encoded twice", "to=priya.r%2540example.org&team=42", "to=[EMAIL_REDACTED]&team=42"},
		{"loopback kept", "dial tcp 127.0.0.1:6379: refused; listening on 0.0.0.0:8080", "dial tcp 127.0.0.1:6379: refused; listening on 0.0.0.0:8080"},
		{"tz offset", "+0530 IST", "+0530 IST"},
		{"phone dashed national", "電話：03-5561-8802（平日）, mobile 090-1234-5678", "電話：[PHONE_REDACTED]（平日）, mobile [PHONE_REDACTED]"},
		{"phone then a group too many", "number 020 7946 0321 123 ok", "number [PHONE_REDACTED] 123 ok"},
		{"phone then a short group", "number 020 7946 0321 12 on file", "number [PHONE_REDACTED] 12 on file"},
		{"phone german mobile", "SMS an 0151 2345 6789 fehlgeschlagen", "SMS an [PHONE_REDACTED] fehlgeschlagen"},
		{"phone dutch mobile", "klant niet bereikbaar op 06-41827395", "klant niet bereikbaar op [PHONE_REDACTED]"},
		{"phone pairs after groups", "номер 067 482 19 33, telefonum 0542 771 09 38", "номер [PHONE_REDACTED], telefonum [PHONE_REDACTED]"},
		{"quoted versions", `[assembly: AssemblyFileVersion("1.2.3.4")] {"version": "10.0.19041.1"} build='6.2.9.200'`,
			`[assembly: AssemblyFileVersion("1.2.3.4")] {"version": "10.0.19041.1"} build='6.2.9.200'`},
		{"quoted address", `{"ip": "10.0.0.1"} peer="192.0.2.7"`, `{"ip": "[IP_REDACTED]"} peer="[IP_REDACTED]"`},
		{"android versionName", "versionName=4.20.1.3 minSdk=24", "versionName=4.20.1.3 minSdk=24"},
		{"dashed not a phone", "part 03-556-880 and 12-3456-7890", "part 03-556-880 and 12-3456-7890"},
		{"camelCase version key", "FileVersion: 6.2.9.200, ProductVersion=10.0.19041.1", "FileVersion: 6.2.9.200, ProductVersion=10.0.19041.1"},
		{"hex offset", "panic.go:453 +0x228", "panic.go:453 +0x228"},

		{"uuid", "request_id=0a80702d-b929-46c6-b783-1ffdb28c340d", "request_id=0a80702d-b929-46c6-b783-1ffdb28c340d"},
		{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		{"placeholders", "user=[EMAIL_REDACTED] card=[CREDIT_CARD_REDACTED] ip=[IP_REDACTED]", "user=[EMAIL_REDACTED] card=[CREDIT_CARD_REDACTED] ip=[IP_REDACTED]"},
		{"empty", "", ""},
	})
}

func TestAttrKeys(t *testing.T) {
	e := Default()
	for _, tc := range []struct{ key, in, want string }{
		{"db.password", "hunter2", "[REDACTED]"},
		{"user.email", "someone", "[EMAIL_REDACTED]"},
		{"http.request.header.authorization", "Bearer abc", "[REDACTED]"},
		{"http.request.header.x-api-key", "k", "[REDACTED]"},
		{"http.response.header.set-cookie", "a=b", "[REDACTED]"},
		{"secrets.apiToken", "abc", "[REDACTED]"},
		{"AWS_SECRET_ACCESS_KEY", "abc", "[REDACTED]"},
		{"client.address", "example.net", "[IP_REDACTED]"},
		{"http.client_ip", "203.0.113.5", "[IP_REDACTED]"},
		{"net.peer.ip", "203.0.113.5", "[IP_REDACTED]"},
		{"http.request.header.x-forwarded-for", "203.0.113.5, 10.0.0.1", "[IP_REDACTED]"},
		// Near misses keep their value (and the value rules still apply).
		{"gen_ai.usage.input_tokens", "812", "812"},
		{"password_changed_at", "2024-06-11", "2024-06-11"},
		{"email_verified", "true", "true"},
		{"token.type", "bearer", "bearer"},
		{"api_key.id", "key_123", "key_123"},
		{"messaging.rabbitmq.destination.routing_key", "payments.refund.requested", "payments.refund.requested"},
		{"server.address", "10.0.0.1", "[IP_REDACTED]"},
		{"client.address", "127.0.0.1", "127.0.0.1"},
		{"net.peer.ip", "::1", "::1"},
		{"http.client_ip", "[::1]:8080", "[::1]:8080"},
		{"client.address", "127.0.0.1.evil.example", "[IP_REDACTED]"},
		{"client.address", "128.0.0.1", "[IP_REDACTED]"},
		{"credit_card.brand", "visa", "visa"},
		{"employee.social_security_number", "318447219", "[REDACTED]"},
		{"pan", "505373412509", "[REDACTED]"},
		{"payment.card.pan", "5053 7341 2509", "[REDACTED]"},
		{"camera.pan", "-12.5", "-12.5"},
		{"primary_account_number", "6759649826438453", "[REDACTED]"},
		{"security_number", "42", "42"},
		// Allowlisted keys are never touched, whatever the value.
		{"http.route", "/users/alice@example.com", "/users/alice@example.com"},
		{"trace_id", "4bf92f3577b34da6a3ce929d0e0e4736", "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"service.name", "alice@example.com", "alice@example.com"},
		{"telemetry.sdk.version", "1.2.3.4", "1.2.3.4"},
		// ... but a secret-named key under an allowed prefix is a secret.
		{"service.apikey", "a9f3c7e1b5d2", "[REDACTED]"},
		{"service.db.password", "hunter2", "[REDACTED]"},
		{"gcp.next_page_token", "CiAKGjBp", "CiAKGjBp"},
		// A key that names a version: its value is a version, not an address.
		{"app.version", "5.12.0.3", "5.12.0.3"},
		{"os.kernel_version", "6.8.0.1", "6.8.0.1"},
		// Empty and already-redacted values stay.
		{"db.password", "", ""},
		{"db.password", "[REDACTED]", "[REDACTED]"},
		{"user.email", "[EMAIL:5f3a9c1e]", "[EMAIL:5f3a9c1e]"},
		{"exception.message", "user bob@example.com", "user [EMAIL_REDACTED]"},
	} {
		got, changed := e.Attr(tc.key, tc.in)
		if got != tc.want || changed != (tc.in != tc.want) {
			t.Errorf("Attr(%q, %q) = %q, %v; want %q", tc.key, tc.in, got, changed, tc.want)
		}
	}
}

func TestInt(t *testing.T) {
	e := Default()
	for _, tc := range []struct {
		key  string
		v    int64
		want string
	}{
		{"payment.pan", 4111111111111111, "[CREDIT_CARD_REDACTED]"},
		{"x", 378282246310005, "[CREDIT_CARD_REDACTED]"},
		{"order.id", 5554944084278513, ""},
		{"event.timestamp_ms", 1753739583295, ""},
		{"http.response.status_code", 4111111111111111, ""},
		{"user.pin_code", 1234, ""},
		{"card.cvv", 123, "[REDACTED]"},
		{"n", -4111111111111111, ""},
	} {
		got, changed := e.Int(tc.key, tc.v)
		if got != tc.want || changed != (tc.want != "") {
			t.Errorf("Int(%q, %d) = %q, %v; want %q", tc.key, tc.v, got, changed, tc.want)
		}
	}
}

func TestStringReturnsInputWhenClean(t *testing.T) {
	e := Default()
	in := strings.Repeat("nothing to see here ", 4)
	out, changed := e.String(in)
	if changed || out != in {
		t.Fatalf("String changed a clean input: %q", out)
	}
	// The very same string, not a copy: callers rely on it to skip work.
	if unsafe.StringData(out) != unsafe.StringData(in) {
		t.Fatal("String returned a copy of a clean input")
	}
}

func TestModes(t *testing.T) {
	e, err := New(Config{
		HashKey: []byte("k"),
		Modes:   map[string]Mode{"email": ModeHash, "credit_card": ModeMask, "key_secret": ModeHash},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := e.String("user alice@example.com and alice@example.com, bob@example.com")
	parts := strings.Fields(strings.NewReplacer(",", " ").Replace(a))
	if len(parts) != 5 || parts[1] != parts[3] || parts[1] == parts[4] {
		t.Fatalf("hash mode: equal inputs must hash equal, different differ: %q", a)
	}
	if !isPlaceholderShape(parts[1]) || !strings.HasPrefix(parts[1], "[EMAIL:") || len(parts[1]) != len("[EMAIL:12345678]") {
		t.Errorf("hash placeholder shape: %q", parts[1])
	}
	if again, changed := e.String(a); changed || again != a {
		t.Errorf("hash output not idempotent: %q → %q", a, again)
	}

	m, _ := e.String("card 4242 4242 4242 4242 ok")
	if m != "card [CREDIT_CARD:…4242] ok" {
		t.Errorf("mask mode: %q", m)
	}
	if again, _ := e.String(m); again != m {
		t.Errorf("mask output not idempotent: %q", again)
	}
	if v, _ := e.Int("amount", 4111111111111111); v != "[CREDIT_CARD:…1111]" {
		t.Errorf("mask Int: %q", v)
	}
	k, _ := e.Attr("db.password", "hunter2")
	if !strings.HasPrefix(k, "[REDACTED:") || !isPlaceholderShape(k) {
		t.Errorf("hashed key rule: %q", k)
	}
	if again, changed := e.Attr("db.password", k); changed || again != k {
		t.Errorf("hashed key rule not idempotent: %q", again)
	}

	// A different key gives a different hash: the key is what keeps the
	// output from being a lookup table.
	e2, _ := New(Config{HashKey: []byte("other"), Modes: map[string]Mode{"email": ModeHash}})
	b, _ := e2.String("alice@example.com")
	if b == parts[1] {
		t.Errorf("hash does not depend on the key: %q", b)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown disable", Config{Disable: []string{"emial"}}, `rule "emial": unknown rule`},
		{"unknown mode rule", Config{Modes: map[string]Mode{"nope": ModeHash}}, `rule "nope": unknown rule`},
		{"bad mode", Config{Modes: map[string]Mode{"email": "scramble"}}, `rule "email": unknown mode "scramble"`},
		{"mask not card", Config{Modes: map[string]Mode{"email": ModeMask}}, `rule "email": mode mask is only supported by credit_card`},
		{"hash without key", Config{Modes: map[string]Mode{"ip": ModeHash}}, `rule "ip": mode hash needs a hash key`},
		{"bad regex", Config{Custom: []CustomRule{{Name: "emp", Pattern: "EMP-[0-9"}}}, `rule "emp": invalid pattern`},
		{"builtin name", Config{Custom: []CustomRule{{Name: "email", Key: "x"}}}, `rule "email": name is taken by a built-in rule`},
		{"both", Config{Custom: []CustomRule{{Name: "x", Key: "k", Pattern: "p"}}}, `rule "x": needs exactly one of pattern and key`},
		{"not idempotent", Config{Custom: []CustomRule{{Name: "caps", Pattern: "[A-Z]{4,}"}}}, `rule "caps": pattern matches placeholder`},
		{"placeholder redacted", Config{Custom: []CustomRule{{Name: "x", Pattern: "zz", Placeholder: "<x@example.com>"}}}, `placeholder "<x@example.com>" is itself redacted`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestDisableByName(t *testing.T) {
	in := "alice@example.com from 203.0.113.7 card 4111111111111111 pw=x password=hunter2"
	for _, name := range RuleNames() {
		e, err := New(Config{Disable: []string{name}})
		if err != nil {
			t.Fatalf("disable %s: %v", name, err)
		}
		out, _ := e.String(in)
		_, ms := e.Explain("", in)
		for _, m := range ms {
			if m.Rule == name {
				t.Errorf("disabled rule %s still fired on %q → %q", name, in, out)
			}
		}
	}
	e, _ := New(Config{Disable: []string{"email", "ip", "key_secret"}})
	if out, _ := e.String(in); !strings.Contains(out, "alice@example.com") || !strings.Contains(out, "203.0.113.7") || strings.Contains(out, "4111") {
		t.Errorf("disable email, ip: %q", out)
	}
	if out, _ := e.Attr("db.password", "hunter2"); out != "hunter2" {
		t.Errorf("disabled key_secret still redacts: %q", out)
	}
}

func TestCustomRules(t *testing.T) {
	e, err := New(Config{
		Allow: []string{"customer.tier", "internal.*"},
		Custom: []CustomRule{
			{Name: "employee_id", Pattern: `EMP-[0-9]{6}`, Placeholder: "[EMPLOYEE_ID_REDACTED]"},
			{Name: "pin", Key: "pin"},
			{Name: "vault", Key: "vault.*", Placeholder: "[VAULT]"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, ms := e.Explain("", "EMP-123456 mailed alice@example.com, EMP-12 not")
	if got != "[EMPLOYEE_ID_REDACTED] mailed [EMAIL_REDACTED], EMP-12 not" {
		t.Errorf("custom pattern: %q", got)
	}
	if len(ms) != 2 || ms[0] != (Match{"employee_id", 0, 10}) || ms[1].Rule != "email" {
		t.Errorf("custom matches: %+v", ms)
	}
	for _, tc := range []struct{ key, in, want string }{
		{"card.pin", "1234", "[REDACTED]"},
		{"user_pin", "1234", "[REDACTED]"},
		{"pinned", "yes", "yes"},
		{"vault.path", "secret/data/x", "[VAULT]"},
		{"customer.tier", "alice@example.com", "alice@example.com"},
		{"internal.debug", "10.0.0.1", "10.0.0.1"},
	} {
		if got, _ := e.Attr(tc.key, tc.in); got != tc.want {
			t.Errorf("Attr(%q, %q) = %q, want %q", tc.key, tc.in, got, tc.want)
		}
	}
	if again, _ := e.String(got); again != got {
		t.Errorf("custom not idempotent: %q", again)
	}
	c := e.Counts()
	if c["employee_id"] != 0 {
		t.Errorf("Explain must not count: %v", c["employee_id"])
	}
	e.String("EMP-000001")
	if c := e.Counts(); c["employee_id"] != 1 {
		t.Errorf("employee_id count = %d, want 1", c["employee_id"])
	}
}

func TestExplainAndCounts(t *testing.T) {
	e := Default()
	in := "mail alice@example.com from 203.0.113.7"
	out, ms := e.Explain("", in)
	want := []Match{{"email", 5, 22}, {"ip", 28, 39}}
	if out != "mail [EMAIL_REDACTED] from [IP_REDACTED]" || len(ms) != 2 || ms[0] != want[0] || ms[1] != want[1] {
		t.Fatalf("Explain = %q, %+v", out, ms)
	}
	if in[ms[0].Start:ms[0].End] != "alice@example.com" {
		t.Errorf("offsets do not point at the secret: %q", in[ms[0].Start:ms[0].End])
	}
	if _, ms := e.Explain("db.password", "x"); len(ms) != 1 || ms[0] != (Match{"key_secret", 0, 1}) {
		t.Errorf("Explain key rule: %+v", ms)
	}
	e.String(in)
	e.String(in)
	e.Attr("db.password", "x")
	c := e.Counts()
	if c["email"] != 2 || c["ip"] != 2 || c["key_secret"] != 1 || c["phone"] != 0 {
		t.Errorf("Counts = %v", c)
	}
	if len(c) != len(RuleNames()) {
		t.Errorf("Counts has %d rules, want %d", len(c), len(RuleNames()))
	}
}

func TestManyMatches(t *testing.T) {
	// More matches than the scanner's on-stack buffer holds.
	e := Default()
	in := strings.Repeat("a@example.com 10.0.0.1 ", 20)
	out, _ := e.String(in)
	if want := strings.Repeat("[EMAIL_REDACTED] [IP_REDACTED] ", 20); out != want {
		t.Errorf("got %q", out)
	}
}

func TestUTF8(t *testing.T) {
	e := Default()
	for _, in := range []string{
		"Müller mailed müller@exämple.de about 4111 1111 1111 1111 ✓",
		"密码=秘密 password=pässwörd✓ ok",
		"Grüße von 203.0.113.9…",
	} {
		out, _ := e.String(in)
		if !utf8.ValidString(out) {
			t.Errorf("invalid UTF-8 out of %q: %q", in, out)
		}
	}
	// Invalid sequences become U+FFFD, whatever else happens to the value:
	// clean text, redacted text, and the value of an allowlisted key.
	for _, tc := range []struct{ key, in, want string }{
		{"", "caf\xe9 au lait, nothing to redact", "caf\uFFFD au lait, nothing to redact"},
		{"", "mail \xffbob@example.com\xfe", "mail \uFFFD[EMAIL_REDACTED]\uFFFD"},
		{"http.route", "/users/\xc3(", "/users/\uFFFD("},
		{"note", "\xed\xa0\x80 surrogate half", "\uFFFD surrogate half"},
	} {
		var out string
		var changed bool
		if tc.key == "" {
			out, changed = e.String(tc.in)
		} else {
			out, changed = e.Attr(tc.key, tc.in)
		}
		if out != tc.want || !changed {
			t.Errorf("Attr(%q, %q) = %q, %t; want %q, true", tc.key, tc.in, out, changed, tc.want)
		}
		if ex, _ := e.Explain(tc.key, tc.in); ex != tc.want {
			t.Errorf("Explain(%q, %q) = %q; want %q", tc.key, tc.in, ex, tc.want)
		}
	}
}

// TestConcurrentUse is for the race detector: an Engine is shared by every
// goroutine that exports telemetry.
func TestConcurrentUse(t *testing.T) {
	e, err := New(Config{HashKey: []byte("k"), Modes: map[string]Mode{"email": ModeHash}})
	if err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				e.String("mail alice@example.com from 203.0.113.7")
				e.Attr("db.password", "x")
				e.Int("payment.value", 4111111111111111)
				e.Counts()
			}
		}()
	}
	wg.Wait()
	c := e.Counts()
	if want := uint64(workers * rounds); c["email"] != want || c["ip"] != want || c["key_secret"] != want || c["credit_card"] != want {
		t.Errorf("Counts = %v, want %d each for email, ip, key_secret, credit_card", c, want)
	}
}

// TestKeyClassMatchesSuffixLists holds keyClass, the fast switch, to the
// suffix lists that specify the key rules.
func TestKeyClassMatchesSuffixLists(t *testing.T) {
	slow := func(key string) (ruleID, bool) {
		for _, s := range notSecretTokens {
			if keyHasSuffix(key, s) {
				return 0, false
			}
		}
		for _, l := range []struct {
			list []string
			r    ruleID
		}{{secretKeys, ruleKeySecret}, {emailKeys, ruleKeyEmail}, {clientIPKeys, ruleKeyIP}} {
			for _, s := range l.list {
				if keyHasSuffix(key, s) {
					return l.r, true
				}
			}
		}
		return 0, false
	}
	camel := func(s string) string {
		parts := strings.Split(s, "_")
		for i := 1; i < len(parts); i++ {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
		return strings.Join(parts, "")
	}
	var keys []string
	for _, l := range [][]string{secretKeys, emailKeys, clientIPKeys, notSecretTokens} {
		for _, s := range l {
			for _, k := range []string{
				s, "a." + s, "http.request.header." + strings.ReplaceAll(s, "_", "-"),
				"db." + camel(s), strings.ToUpper(s), "APP_" + strings.ToUpper(s),
				"x" + s, s + "s", s + "_at", s + ".id", "shared_" + s, "my " + s,
			} {
				keys = append(keys, k)
			}
		}
	}
	keys = append(keys, "", ".", "key", "ip", "card", "number", "address", "for", "mail",
		"gen_ai.usage.input_tokens", "token.type", "api_key.id", "XApiKey", "server.address",
		"e.mail", "SharedAccessKey", "AccountKey", "x-forwarded-for", "net.peer.ip")
	for _, k := range keys {
		wr, wok := slow(k)
		gr, gok := attrKeyRule(k)
		if wr != gr || wok != gok {
			t.Errorf("attrKeyRule(%q) = %v, %v; the suffix lists say %v, %v", k, gr, gok, wr, wok)
		}
	}
}

// TestAllowlistAndKeyRules: a key allowed by name is never touched, even
// when it names a secret; one allowed only by a prefix ("app.*") is still
// redacted when its last words name a secret.
func TestAllowlistAndKeyRules(t *testing.T) {
	e, err := New(Config{Allow: []string{"app.debug_token", "app.*"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ key, in, want string }{
		{"app.debug_token", "abc123", "abc123"},
		{"app.session_token", "abc123", "[REDACTED]"},
		{"app.owner", "alice@example.com", "alice@example.com"},
	} {
		if got, _ := e.Attr(tc.key, tc.in); got != tc.want {
			t.Errorf("Attr(%q, %q) = %q, want %q", tc.key, tc.in, got, tc.want)
		}
		if got, _ := e.Explain(tc.key, tc.in); got != tc.want {
			t.Errorf("Explain(%q, %q) = %q, want %q", tc.key, tc.in, got, tc.want)
		}
	}
}
