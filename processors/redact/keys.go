package redact

import "strings"

// Key rules look at the name of an attribute (Engine.Attr) or at the name
// in a "name=value" / "name: value" pair inside free text (assign). A name
// matches a suffix when its last words equal the suffix's words, compared
// case-insensitively, where words are separated by '.', '_', '-', ' ' or a
// camelCase boundary. So "db.password", "X-Api-Key" and "secrets.apiToken"
// match, while "password_changed_at", "gen_ai.usage.input_tokens",
// "token.type" and "api_key.id" do not.

// secretKeys name values that are secret whatever they look like (and so
// does a name that is exactly "pan", a card's primary account number). With
// emailKeys and clientIPKeys they are the specification of the attribute
// key rules; keyClass implements them with a switch on the last words,
// and TestKeyClassMatchesSuffixLists holds the two together.
var secretKeys = []string{
	"password", "passwd", "pwd", "passphrase", "secret", "token",
	"api_key", "apikey", "authorization", "cookie", "session",
	"credit_card", "card_number", "cvv", "cvc", "ssn", "private_key",
	"secret_key", "access_key", "account_key", "credentials",
	"social_security_number", "card_pan", "primary_account_number",
}

// notSecretTokens are names ending in a secret word that are not
// credentials: pagination cursors, cancellation and idempotency handles,
// the .NET assembly PublicKeyToken, Helm's existingSecret (the name of a
// Secret object). A name with one of these suffixes is not a secret key.
var notSecretTokens = []string{
	"page_token", "pagination_token", "continuation_token", "sync_token",
	"cancellation_token", "idempotency_token", "public_key_token",
	"existing_secret",
}

var emailKeys = []string{"email", "email_address", "e_mail"}

var clientIPKeys = []string{
	"client_address", "client_ip", "peer_ip", "x_forwarded_for",
	"forwarded_for", "real_ip", "true_client_ip", "connecting_ip",
	"remote_addr", "remote_ip", "user_ip",
}

// Key classes, from the last words of a name.
const (
	kcNone        uint8 = iota
	kcSecret            // secretKeys
	kcAuthz             // authorization
	kcCookie            // cookie, set-cookie
	kcCredentials       // credentials
	kcAzure             // account_key, shared_access_key (Azure connection strings)
	kcInline            // secret inline (signature=…, routing_key: …), not as an attribute key
	kcEmail             // emailKeys
	kcIP                // clientIPKeys
)

// Inline kinds: what a secret-looking name in free text leads to.
const (
	kindNone        uint8 = iota
	kindSecret            // value → [REDACTED] (inline_secret / query_secret)
	kindAPIKey            // Azure AccountKey=…/SharedAccessKey=… → [API_KEY_REDACTED]
	kindAuthz             // Authorization: leave "Bearer x" to the scheme rule
	kindCookie            // Cookie:/Set-Cookie: header → cookie rule
	kindCredentials       // credentials: a lone token is the secret; a pair inside is left to itself
)

// lastWords maps the lower-cased last byte of a name to the last words
// that end that way, so that a name is compared with two or three words
// at most — most names with none. two is set for a word that only counts
// with the right word before it ("key" in "api_key").
var lastWords [256][]lastWord

type lastWord struct {
	word  string
	prev  byte // the word's byte before its last: most names are turned away on it
	class uint8
	two   bool
}

func init() {
	for _, w := range []lastWord{
		{word: "password", class: kcSecret}, {word: "passwd", class: kcSecret},
		{word: "pwd", class: kcSecret}, {word: "passphrase", class: kcSecret},
		{word: "secret", two: true}, {word: "session", class: kcSecret},
		{word: "ssn", class: kcSecret}, {word: "token", two: true},
		{word: "apikey", class: kcSecret}, {word: "cvv", class: kcSecret},
		{word: "cvc", class: kcSecret}, {word: "authorization", class: kcAuthz},
		{word: "cookie", class: kcCookie}, {word: "credentials", class: kcCredentials},
		{word: "signature", two: true}, {word: "email", class: kcEmail},
		{word: "key", two: true}, {word: "card", two: true}, {word: "number", two: true},
		{word: "address", two: true}, {word: "mail", two: true}, {word: "ip", two: true},
		{word: "for", two: true}, {word: "addr", two: true}, {word: "pan", two: true},
		{word: "confirmation", two: true}, {word: "confirm", two: true}, {word: "base", two: true},
		{word: "team", two: true},
	} {
		addLastWord(w)
	}
	for _, word := range localPasswordWords {
		addLastWord(lastWord{word: word, class: kcSecret})
	}
}

func addLastWord(w lastWord) {
	n := len(w.word)
	w.prev = w.word[n-2]
	lastWords[w.word[n-1]] = append(lastWords[w.word[n-1]], w)
}

// keyClass classifies a name by its last words, compared case-insensitively;
// words are separated by '.', '_', '-', ' ' or a camelCase boundary. It
// runs for every attribute of every span, hence the table of last words.
func keyClass(key string) uint8 {
	if key == "" {
		return kcNone
	}
	if isDigit(key[len(key)-1]) {
		// A numbered or versioned name, password2, ses_smtp_password_v4,
		// cvv2: classified by the name it numbers.
		if k := trimNumber(key); k != "" {
			return keyClass(k)
		}
		return kcNone
	}
	if len(key) < 2 {
		return kcNone
	}
	prev := lowerByte(key[len(key)-2])
	for _, lw := range lastWords[lowerByte(key[len(key)-1])] {
		ws := len(key) - len(lw.word)
		if lw.prev != prev || ws < 0 || !hasFoldPrefix(key[ws:], lw.word) || !wordStart(key, ws) {
			continue
		}
		if !lw.two {
			return lw.class
		}
		return twoWordClass(key, lw.word, beforeSep(key, ws))
	}
	return kcNone
}

// trimNumber returns key without its trailing number — and the 'v' and
// separator before it ("_v4", "-2", "2") — or "" when nothing is left.
func trimNumber(key string) string {
	k := len(key)
	for k > 0 && isDigit(key[k-1]) {
		k--
	}
	if k >= 2 && (key[k-1] == 'v' || key[k-1] == 'V') && isKeySep(key[k-2]) {
		k--
	}
	if k > 0 && isKeySep(key[k-1]) {
		k--
	}
	if k == 0 || !isAlpha(key[k-1]) {
		return ""
	}
	return key[:k]
}

// wordStart reports whether a word starts at key[i].
func wordStart(key string, i int) bool {
	return i == 0 || isKeySep(key[i-1]) || camelBoundary(key, i-1)
}

// beforeSep returns where the word before the one at ws ends: before the
// separator, or at ws for a camelCase boundary.
func beforeSep(key string, ws int) int {
	if ws > 0 && isKeySep(key[ws-1]) {
		return ws - 1
	}
	return ws
}

// endsWithWord reports whether key[:end] ends with the word w (lower case).
func endsWithWord(key string, end int, w string) bool {
	ws := end - len(w)
	return ws >= 0 && hasFoldPrefix(key[ws:end], w) && wordStart(key, ws)
}

func twoWordClass(key, last string, end int) uint8 {
	is := func(w string) bool { return endsWithWord(key, end, w) }
	switch last {
	case "token":
		switch {
		case is("page") || is("pagination") || is("continuation") || is("sync") ||
			is("cancellation") || is("idempotency"):
			return kcNone
		case is("key") && endsWithWord(key, beforeSep(key, end-len("key")), "public"):
			return kcNone
		case is("request") && endsWithWord(key, beforeSep(key, end-len("request")), "client"):
			return kcNone // CloudFormation's ClientRequestToken: an idempotency key
		}
		return kcSecret
	case "signature":
		if is("dkim") || is("message") && endsWithWord(key, beforeSep(key, end-len("message")), "arc") {
			return kcNone // DKIM-Signature, ARC-Message-Signature: public signatures of a mail
		}
		return kcInline
	case "secret":
		if is("existing") {
			return kcNone // Helm's existingSecret names a Secret object
		}
		return kcSecret
	case "key":
		switch {
		case is("api") || is("private") || is("secret") || is("preshared") || is("shared") ||
			is("license") || is("integration") || is("sentry"):
			// … a VPN's or fluentd's (pre-)shared key, New Relic's license
			// key, PagerDuty's and Opsgenie's integration keys, the key of a
			// Sentry DSN (sentry_key=).
			return kcSecret
		case is("routing") || is("service"):
			// PagerDuty's routing_key and service_key in its payloads and
			// configuration; but as attribute keys they are the broker's
			// (messaging.rabbitmq.destination.routing_key) or a service's.
			return kcInline
		case is("account"):
			return kcAzure
		case is("access"):
			if endsWithWord(key, beforeSep(key, end-len("access")), "shared") {
				return kcAzure
			}
			return kcSecret
		}
	case "card":
		if is("credit") {
			return kcSecret
		}
	case "number":
		if is("card") || is("security") && endsWithWord(key, beforeSep(key, end-len("security")), "social") ||
			is("account") && endsWithWord(key, beforeSep(key, end-len("account")), "primary") {
			return kcSecret
		}
	case "pan":
		// A card's primary account number: "pan", "card.pan" — not
		// "camera.pan".
		if end == 0 || is("card") {
			return kcSecret
		}
	case "address":
		if is("email") {
			return kcEmail
		}
		if is("client") {
			return kcIP
		}
	case "mail":
		if is("e") {
			return kcEmail
		}
	case "ip":
		if is("client") || is("peer") || is("real") || is("connecting") || is("remote") || is("user") {
			return kcIP
		}
	case "for":
		if is("forwarded") {
			return kcIP
		}
	case "addr":
		if is("remote") {
			return kcIP
		}
	case "confirmation", "confirm":
		// A form's second entry of the password: password_confirmation.
		if is("password") || is("passwd") {
			return kcSecret
		}
	case "team":
		if is("honeycomb") {
			return kcSecret // x-honeycomb-team: Honeycomb's API key header
		}
	case "base":
		// Rails' secret_key_base signs its cookies.
		if is("key") && endsWithWord(key, beforeSep(key, end-len("key")), "secret") {
			return kcSecret
		}
	}
	return kcNone
}

// keyHasSuffix reports whether key ends with the words of suffix (lower
// case, '_' standing for any separator or a camelCase boundary). It serves
// the custom key rules and the tests; built-in rules use keyClass.
func keyHasSuffix(key, suffix string) bool {
	i, j := len(key)-1, len(suffix)-1
	for j >= 0 {
		if i < 0 {
			return false
		}
		if suffix[j] == '_' {
			switch {
			case isKeySep(key[i]):
				i--
			case camelBoundary(key, i):
				// the boundary lies between key[i] and key[i+1]; consume nothing
			default:
				return false
			}
			j--
			continue
		}
		if lowerByte(key[i]) != suffix[j] {
			return false
		}
		i--
		j--
	}
	return i < 0 || isKeySep(key[i]) || camelBoundary(key, i)
}

func isKeySep(c byte) bool { return c == '.' || c == '_' || c == '-' || c == ' ' }

// camelBoundary reports whether a word ends at key[i] because key[i+1]
// starts a new camelCase word ("apiToken", "SecretAccessKey").
func camelBoundary(key string, i int) bool {
	return i+1 < len(key) && isUpper(key[i+1]) && (isLower(key[i]) || isDigit(key[i]))
}

// attrKeyRule returns the built-in key rule for an attribute name.
func attrKeyRule(key string) (ruleID, bool) {
	switch keyClass(key) {
	case kcSecret, kcAuthz, kcCookie, kcCredentials, kcAzure:
		return ruleKeySecret, true
	case kcEmail:
		return ruleKeyEmail, true
	case kcIP:
		return ruleKeyIP, true
	}
	return 0, false
}

// localPasswordWords are "password" in other languages, written in ASCII
// (German, Dutch, Spanish and Portuguese without accents, Italian and
// Turkish, Polish, Czech, Nordic, Finnish): last words of a secret name,
// like "password" (db_passwort, Kennwort=…).
// The same words with their accents, and in other scripts, are in
// localPasswordNames.
var localPasswordWords = []string{
	"passwort", "kennwort", "wachtwoord", "contrasena", "senha", "parola",
	"sifre", "haslo", "heslo", "losenord", "passord", "adgangskode", "salasana", "jelszo",
}

// localPasswordNames are names of a password that the key scan cannot
// see, being written with letters outside ASCII or with spaces ("mot de
// passe"): matched as the text right before the '=' or ':'.
var localPasswordNames = []string{
	"mot de passe", "Mot de passe", "contraseña", "Contraseña", "hasło", "Hasło",
	"lösenord", "Lösenord", "jelszó", "Jelszó", "şifre", "Şifre",
	"пароль", "Пароль", "密码", "密碼", "비밀번호", "パスワード", "κωδικός", "Κωδικός",
}

// queryOnlyNames are secret as URL query parameters but too common as
// plain words elsewhere ("key=", "sig="). Not "code": an OAuth
// authorization code is single-use, short-lived and useless without the
// client's secret or PKCE verifier, and code= is far more often an error,
// country or promotion code.
var queryOnlyNames = []string{
	"key", "sig", "jwt", "auth", "pass", "sid", "sessionid",
	"x-amz-credential", "awsaccesskeyid", "googleaccessid",
	"x-goog-credential", "accesskey",
}

// inlineKind classifies a name seen before '=' or ':' in free text. query
// is true when the name follows '?' or '&'.
func inlineKind(key string, query bool) uint8 {
	if key == "" || equalFold(key, "1password") {
		// (1Password, the password manager: "1Password: item … moved".)
		return kindNone
	}
	switch keyClass(key) {
	case kcSecret, kcInline:
		return kindSecret
	case kcAzure:
		return kindAPIKey
	case kcAuthz:
		return kindAuthz
	case kcCookie:
		return kindCookie
	case kcCredentials:
		return kindCredentials
	}
	// "credentials: password=x" is left to the inner pair, which then
	// reads better. Environment-style names glue the word on: PGPASSWORD,
	// MYSQL_ROOTPASSWD.
	if hasFoldSuffix(key, "password") || hasFoldSuffix(key, "passwd") {
		return kindSecret
	}

	if query {
		for _, q := range queryOnlyNames {
			if equalFold(key, q) {
				return kindSecret
			}
		}
	}
	return kindNone
}

// keyPattern is a user-supplied key pattern: "prefix.*" matches keys that
// start with "prefix."; anything else matches like a built-in key suffix.
type keyPattern struct {
	prefix string // set for "prefix.*"
	suffix string // normalised: lower case, separators as '_'
}

func parseKeyPattern(p string) keyPattern {
	if pre, ok := strings.CutSuffix(p, "*"); ok {
		return keyPattern{prefix: pre}
	}
	b := []byte(strings.ToLower(p))
	for i, c := range b {
		if isKeySep(c) {
			b[i] = '_'
		}
	}
	return keyPattern{suffix: string(b)}
}

func (p keyPattern) match(key string) bool {
	if p.suffix == "" {
		return strings.HasPrefix(key, p.prefix)
	}
	return keyHasSuffix(key, p.suffix)
}
