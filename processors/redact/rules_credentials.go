package redact

import "strings"

// scheme matches the credential after an HTTP auth scheme word, keeping the
// word: "Bearer abc…" → "Bearer [REDACTED]". It must not fire on a
// challenge ("WWW-Authenticate: Bearer realm=\"…\"") or on prose ("bearer
// token", "basic configuration"), hence the auth-param and shape checks.
func (sc *scanner) scheme(i int) int {
	s := sc.s
	w := 0
	token := false
	switch {
	case hasFoldPrefix(s[i:], "bearer "):
		w = 6
	case hasFoldPrefix(s[i:], "basic "):
		w = 5
	case strings.HasPrefix(s[i:], "Token "):
		w, token = 5, true
	default:
		return 0
	}
	cs := i + w
	for cs < len(s) && s[cs] == ' ' {
		cs++
	}
	j := cs
	for j < len(s) && isToken68[s[j]] {
		j++
	}
	run := j - cs
	end := j
	for end < len(s) && s[end] == '=' {
		end++
	}
	if end > j && end < len(s) && (s[end] == '"' || s[end] == '\\' || s[end] == '[' || isWord[s[end]]) && authParamName(s[cs:j]) {
		// realm="…": an auth-param, not a credential. '[' because a value
		// redacted by another rule reads as one on a second pass. A
		// base64 credential's padding before a closing quote ("Basic
		// dXNlcjpw==\"") is not: auth-param names have no digits.
		return 0
	}
	if run < 8 || !credentialLike(s[cs:j]) {
		return 0
	}
	if token && (run < 16 || !hasDigit(s[cs:j])) {
		return 0
	}
	if sc.emit(cs, end, ruleBearer) {
		return end
	}
	return 0
}

// authParamName reports whether w can be an auth-param name (realm, error,
// error_description, scope, charset, …): letters, '_' and '-' only.
func authParamName(w string) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i]; !isLower(c) && !isUpper(c) && c != '_' && c != '-' {
			return false
		}
	}
	return w != ""
}

// credentialLike rejects all-lower-case words, which random credentials
// practically never are.
func credentialLike(v string) bool {
	for i := 0; i < len(v); i++ {
		if !isLower(v[i]) {
			return true
		}
	}
	return false
}

// assign handles "name=value" and "name: value" pairs in free text (also
// JSON "name": "value", escaped JSON \"name\":\"value\", YAML and
// "name = value"). The name is found by looking left from the '=' or ':'
// at i, and decides: a secret name redacts the value (inline_secret, or
// query_secret after '?'/'&'); Cookie/Set-Cookie hands over to the cookie
// rule; anything else costs nothing more.
func (sc *scanner) assign(i int) int {
	s := sc.s
	// Blanks before the separator: "name = value", and before a colon only
	// after a quoted name, JSON written loosely (`"password" :	"…"`).
	k := i
	for k > sc.last && i-k < 8 && (s[k-1] == ' ' || s[k-1] == '\t') {
		k--
	}
	if k == i || s[i] != '=' && sc.at(k-1) != '"' {
		k = i
	}
	rocket := s[i] == '=' && i+1 < len(s) && s[i+1] == '>'
	if rocket && k > sc.last && s[k-1] == ']' {
		k-- // PHP's print_r and var_dump: [password] => …, ["password"]=>
	}
	quoted := false
	if k > sc.last && (s[k-1] == '"' || s[k-1] == '\'') {
		quoted = true
		k--
		if k > sc.last && s[k-1] == '\\' {
			k--
		}
	}
	ks := k
	for ks > sc.last && k-ks <= 64 && isKeyChar[s[ks-1]] {
		ks--
	}
	// "password" written with letters outside ASCII (пароль, contraseña)
	// or with blanks (mot de passe), which the key scan does not take in.
	local := (ks == k && k > sc.last && s[k-1] >= 0x80 || equalFold(s[ks:k], "passe")) &&
		localPasswordName(s[sc.last:k])
	if (ks == k && !local) || k-ks > 64 {
		return i + 1
	}
	if s[i] == ':' && sc.at(ks-1) == '[' {
		// "[CREDIT_CARD:…4242]", "[API_KEY:5f3a9c1e]": our own output.
		if e := strings.IndexByte(s[i:], ']'); e >= 0 && isPlaceholderShape(s[ks-1:i+e+1]) {
			return i + e + 1
		}
	}
	key := s[ks:k]
	if equalFold(key, "value") {
		if name := valueOwner(s[sc.last:ks], quoted, s[i]); name != "" {
			key = name
		}
	}
	if s[i] == ':' && sc.at(ks-1) == ':' && sc.inARN(ks-1) {
		// "arn:aws:secretsmanager:…:secret:name": a resource type, not a
		// name: value pair.
		return i + 1
	}
	if s[i] == ':' && sc.at(ks-1) == '$' {
		// A GraphQL variable's declaration, "($token: String!)": its type.
		return i + 1
	}
	if quoted && sc.at(ks-1) == ' ' && isMessageWord(finalWord(s[sc.last:ks-1])) {
		// The end of a quoted phrase, not a name: LDAP's "Invalid
		// Credentials": 80090308.
		return i + 1
	}
	query := !quoted && s[i] == '=' && (sc.at(ks-1) == '?' || sc.at(ks-1) == '&')
	kind := inlineKind(key, query)
	if local {
		kind = kindSecret
	}
	if kind == kindNone || errorClassName(key) {
		// (An exception's class, "psycopg2.errors.InvalidPassword: …", is
		// not a field.)
		return i + 1
	}
	if kind == kindCookie {
		if s[i] == ':' {
			return sc.cookieHeader(skipArrayOpen(s, i+1))
		}
		kind = kindSecret
	}
	vstart := i + 1
	if rocket {
		vstart = i + 2 // Ruby's and PHP's "=>"
		if j := phpDumpString(s, vstart); j > 0 {
			vstart = j // var_dump: ["password"]=>\n  string(17) "…"
		}
	}
	vs, ve, next := valueBounds(s, skipArrayOpen(s, vstart), query)
	if ve <= vs && s[i] == ':' {
		// "Signature:\n<hex>" (botocore), a YAML plain scalar on the next
		// line: one token alone on the line after the name.
		vs, ve, next = nextLineToken(s, vs)
	}
	if ve <= vs {
		return i + 1
	}
	v := s[vs:ve]
	if v[0] == '{' && (len(v) == 1 || strings.IndexByte("\"'\\ \t", v[1]) >= 0) {
		// An object: ARM's "adminPassword": {"value": "…"} holds the secret
		// under "value"; {"type": "securestring", …} declares it.
		return sc.objectValue(vs)
	}
	if strings.HasPrefix(v, "-----BEGIN") && ve < len(s) && s[ve] == ' ' {
		// "JWT_PRIVATE_KEY=-----BEGIN RSA PRIVATE KEY-----\n…": the PEM rule
		// takes the whole block, where this value would end at its first
		// space.
		return vs
	}
	inArray := skipArrayOpen(s, vstart) != vstart
	if strings.HasPrefix(v, "(*") || v == "undefined" || inArray && isSentence(v) {
		// Go's print of a pointer, session=(*sessions.Session)(0xc000…);
		// JavaScript's undefined; a validation message in a list,
		// 'password': ['Shorter than minimum length 12.'].
		return next
	}
	if sc.standIn(v) || isAuditHash(v) || notASecretValue(s, key, v, ve) || sc.placeholderThenScope(v) {
		if inArray && sc.standIn(v) {
			return sc.arrayRest(next, ruleInlineSecret)
		}
		return next
	}
	if kind == kindCredentials {
		// "credentials": "<token>" is the secret; "credentials: user=x
		// password=y" is left to its own pairs.
		// A list of environment variable names ("credentials: GITHUB_TOKEN,
		// NPM_TOKEN") names secrets without holding one.
		if strings.ContainsAny(v, "= ") || isEnvName(v) || !credentialLike(v) && strings.HasPrefix(s[ve:], " ") {
			// (The last: a word of prose, "…/db-credentials: staged version …".)
			return i + 1
		}
		kind = kindSecret
	}
	if v[0] == '(' {
		// "password = (sensitive value)": Terraform's mask.
		if e := strings.IndexByte(s[vs:min(len(s), vs+32)], ')'); e > 0 && isMasked(s[vs:vs+e+1]) {
			return vs + e + 1
		}
	}
	switch {
	case kind == kindAuthz && (startsWithSchemeWord(s[vs:]) || (s[vs] == '[' && startsWithSchemeWord(s[vs+1:]))):
		// "Authorization: Bearer x" — the scheme rule keeps the word. Also
		// as Go prints an http.Header: "Authorization:[Bearer x]".
		return i + 1
	case equalFold(key, "pwd") && v[0] == '/':
		// $PWD in an environment dump is a directory, not a password.
		return i + 1
	case (isBindParam(v) || isCodeRef(v)) && !sc.anyMatch(refText(v)):
		// "SET password = $1", "password: ${DB_PASSWORD}": a reference to
		// the secret, which is what SQL with placeholders is for. One that
		// holds something the rules would redact is redacted whole, so a
		// second pass sees a placeholder rather than a broken reference.
		return next
	}
	r := ruleInlineSecret
	switch {
	case kind == kindAPIKey:
		r = ruleAPIKey
	case query:
		r = ruleQuerySecret
	}
	if sc.emit(vs, ve, r) {
		if inArray {
			return sc.arrayRest(next, r)
		}
		return next
	}
	return i + 1
}

// spacedSecret handles a credential written after its field's name with
// blanks alone — "client_secret NKY5nv0D… rejected", as a log message puts
// it — where s[ws:we], the word the scanner just passed, is 16 or more
// letters and digits after a blank. The name must be an identifier a
// program would print (with a '_', '-' or '.' inside, or in camelCase:
// client_secret, apiKey, not the English word "token") or a word that can
// only name a secret, and must name one; the value must look like a
// credential (a letter and a digit or symbol); it runs to the next
// delimiter. It returns where scanning resumes, or 0.
func (sc *scanner) spacedSecret(ws, we int) int {
	s := sc.s
	if we-ws < 16 || ws < sc.last || (sc.at(ws-1) != ' ' && sc.at(ws-1) != '\t') {
		return 0
	}
	ke := ws - 1
	for ke > sc.last && ws-ke < 40 && (s[ke-1] == ' ' || s[ke-1] == '\t') {
		ke-- // a column of a table: "secret_key         9QnsA0x…"
	}
	ks := ke
	for ks > sc.last && ke-ks <= 64 && isKeyChar[s[ks-1]] {
		ks--
	}
	if ks == ke || ke-ks > 64 || !compoundName(s[ks:ke]) && !secretWord(s[ks:ke]) {
		return sc.awsConfigurePrompt(ws)
	}
	if c := keyClass(s[ks:ke]); c != kcSecret && c != kcInline {
		return 0
	}
	ve := we
	for ve < len(s) && !valueStop(s, ve, false) {
		ve++
	}
	v := s[ws:ve]
	if !hasLetterAndMark(v) || sc.standIn(v) || !sc.emit(ws, ve, ruleInlineSecret) {
		return 0
	}
	return ve
}

// passwordThenValue handles a password written after a word that ends in
// "password" or "passwd" (s[ws:we]) and one blank — rcon_password
// Rc0nMaster#9, rcon_password "S3rv3r…" — a value of six or more bytes
// with a letter and a digit or symbol (so not a word of prose), up to the
// next blank or its closing quote.
func (sc *scanner) passwordThenValue(ws, we int) int {
	s := sc.s
	if !hasFoldSuffix(s[ws:we], "password") && !hasFoldSuffix(s[ws:we], "passwd") || sc.at(ws-1) == '<' {
		return 0 // (not an XML element's name, <password required="true"/>)
	}
	vs := we + 1
	ve := vs
	if s[vs] == '"' {
		vs++
		e := strings.IndexByte(s[vs:min(len(s), vs+128)], '"')
		if e < 0 {
			return 0
		}
		ve = vs + e
	} else {
		for ve < len(s) && !valueStop(s, ve, false) {
			ve++
		}
	}
	v := s[vs:ve]
	if len(v) < 6 || strings.ContainsAny(v, " \t=:") || !hasLetterAndMark(v) || isMessageWord(v) ||
		sc.standIn(v) || isTemplateRef(v) || isBindParam(v) || !sc.emit(vs, ve, ruleInlineSecret) {
		return 0
	}
	return ve
}

// hasLetterAndMark reports whether v has a letter and a digit or a symbol
// that words do not carry (a dash or an apostrophe does not count:
// "reset-link", "user's").
func hasLetterAndMark(v string) bool {
	letter, mark := false, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case isAlpha(c):
			letter = true
		case isDigit(c) || strings.IndexByte("!@#$%^&*+?~", c) >= 0:
			mark = true
		}
	}
	return letter && mark
}

// secretWord reports whether w, a single word, can only name a secret:
// fluentd and fluent-bit write "password 89KX…", "apikey  1d66…". (Not
// "token", "key" or "session", which prose uses for other things.)
func secretWord(w string) bool {
	switch strings.ToLower(w) {
	case "password", "passwd", "passphrase", "apikey", "secret":
		return true
	}
	return false
}

// awsConfigurePrompt handles the secret typed at aws configure's prompt,
// "AWS Secret Access Key [None]: <40 characters>", at ws.
func (sc *scanner) awsConfigurePrompt(ws int) int {
	s := sc.s
	lo := max(sc.last, ws-48)
	if !strings.HasSuffix(strings.TrimRight(s[lo:ws], " "), ":") || !containsFold(s[lo:ws], "secret access key") {
		return 0
	}
	ve := span(s, ws, setAlnum|bPlusSlash)
	if ve-ws != 40 || (ve < len(s) && isWord[s[ve]]) || !sc.emit(ws, ve, ruleAPIKey) {
		return 0
	}
	return ve
}

// containsFold reports whether s contains w (lower case), ignoring case,
// without allocating.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if hasFoldPrefix(s[i:], w) {
			return true
		}
	}
	return false
}

// compoundName reports whether name is written as an identifier: two
// words joined by '_', '-' or '.', or by a camelCase boundary.
func compoundName(name string) bool {
	for i := 1; i < len(name); i++ {
		if isKeySep(name[i]) || camelBoundary(name, i-1) {
			return i+1 < len(name) || camelBoundary(name, i-1)
		}
	}
	return false
}

// objectValue handles the object value, at '{' in s[vs], of a secret
// name: the value of its "value" key, when it has one before it closes, is
// the secret (ARM parameter files and templates); the braces and other
// members stay. It returns where scanning resumes.
func (sc *scanner) objectValue(vs int) int {
	s := sc.s
	end := min(len(s), vs+512)
	if e := strings.IndexByte(s[vs+1:end], '}'); e >= 0 {
		end = vs + 1 + e
	}
	body := s[vs:end]
	k := strings.Index(body, `"value"`)
	if k < 0 {
		return vs + 1
	}
	j := vs + k + len(`"value"`)
	for j < end && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	if j >= end || s[j] != ':' {
		return vs + 1
	}
	v0, v1, next := valueBounds(s, j+1, false)
	if v1 <= v0 || sc.standIn(s[v0:v1]) || isTemplateRef(s[v0:v1]) || !sc.emit(v0, v1, ruleInlineSecret) {
		return vs + 1
	}
	return next
}

// erlangBinary handles the binary at i, <<"…">>, of an Erlang or Elixir
// tuple whose first element names a secret — {password,<<"…">>}, as
// crash reports and RabbitMQ's auth errors print them; it returns where
// scanning resumes.
func (sc *scanner) erlangBinary(i int) int {
	s := sc.s
	j := i
	for j > sc.last && s[j-1] == ' ' {
		j--
	}
	if j == sc.last || s[j-1] != ',' {
		return i + 1
	}
	ke := j - 1
	ks := ke
	for ks > sc.last && ke-ks <= 64 && isKeyChar[s[ks-1]] {
		ks--
	}
	if ks == ke || sc.at(ks-1) != '{' || inlineKind(s[ks:ke], false) != kindSecret {
		return i + 1
	}
	vs := i + 3
	e := strings.Index(s[vs:min(len(s), vs+512)], `">>`)
	if e <= 0 || sc.standIn(s[vs:vs+e]) || !sc.emit(vs, vs+e, ruleInlineSecret) {
		return i + 1
	}
	return vs + e
}

// errorClassName reports whether key's last dotted segment is the
// CamelCase name of an error about a credential: InvalidPassword,
// ExpiredToken, MissingApiKey, IncorrectPasswordError.
func errorClassName(key string) bool {
	if d := strings.LastIndexByte(key, '.'); d >= 0 {
		key = key[d+1:]
	}
	for _, w := range []string{"Invalid", "Expired", "Missing", "Wrong", "Incorrect", "Bad", "Revoked"} {
		if len(key) > len(w) && strings.HasPrefix(key, w) && isUpper(key[len(w)]) {
			return true
		}
	}
	return false
}

// connectCalls are the calls whose third argument is a password, as PHP
// prints them in a stack trace: PDO->__construct('mysql:…', 'user',
// 'password'), mysqli->real_connect('host', 'user', 'password').
var connectCalls = []string{"PDO->__construct", "PDO::__construct", "new PDO", "mysqli->real_connect",
	"mysqli->__construct", "new mysqli", "mysqli_connect", "mysql_connect"}

// connectArgs handles the arguments, from the '(' at i, of one of
// connectCalls: the third, quoted, is redacted. It returns where
// scanning resumes, or 0.
func (sc *scanner) connectArgs(i int) int {
	s := sc.s
	call := false
	for _, c := range connectCalls {
		if i >= len(c) && s[i-len(c):i] == c {
			call = true
			break
		}
	}
	if !call {
		return 0
	}
	j := i + 1
	for arg := 0; arg < 3; arg++ {
		if j >= len(s) || s[j] != '\'' {
			return 0
		}
		e := strings.IndexByte(s[j+1:min(len(s), j+258)], '\'')
		if e < 0 {
			return 0
		}
		vs, ve := j+1, j+1+e
		if arg == 2 {
			if ve == vs || sc.standIn(s[vs:ve]) || !sc.emit(vs, ve, ruleInlineSecret) {
				return 0
			}
			return ve
		}
		j = ve + 1
		if !strings.HasPrefix(s[j:], ", ") {
			return 0
		}
		j += 2
	}
	return 0
}

// valueOwner returns the name that a "value" key, written after before
// and followed by sep, holds the value of, or "":
//   - quoted, a header as HAR and other JSON dumps write it,
//     {"name": "Authorization", "value": "Bearer …"}, and an Azure key list,
//     {"keyName": "key1", …, "value": "<key>"};
//   - before '=', an XML element's key= or name= attribute (xmlKeyName);
//   - before ':', a YAML list of name/value pairs (yamlEntryName).
func valueOwner(before string, quoted bool, sep byte) string {
	switch {
	case quoted:
		if before == "" {
			return "" // no opening quote before the key: value": …
		}
		before = before[:len(before)-1] // the key's opening quote
		if name := harName(before); name != "" {
			return name
		}
		if azureKeyEntry(before) {
			return "AccountKey"
		}
	case sep == '=':
		return xmlKeyName(before)
	case sep == ':':
		return yamlEntryName(before)
	}
	return ""
}

// xmlKeyName returns NAME when before, the text before a value="…"
// attribute, is inside an element that names it with key="NAME" or
// name="NAME" — .NET's <add key="DbPassword" value="…" />; else "".
func xmlKeyName(before string) string {
	o := strings.LastIndexByte(before, '<')
	if o < 0 || len(before)-o > 256 || strings.IndexByte(before[o:], '>') >= 0 {
		return ""
	}
	tag := before[o:]
	for _, a := range []string{` key="`, ` name="`} {
		if k := strings.Index(tag, a); k >= 0 {
			rest := tag[k+len(a):]
			if e := strings.IndexByte(rest, '"'); e > 0 && e <= 64 {
				return rest[:e]
			}
		}
	}
	return ""
}

// yamlEntryName returns NAME when before, the text before a YAML "value"
// key, is its line's indentation and the line above is "- name: NAME" (or
// "name: NAME") — the name of the entry whose value follows; else "".
func yamlEntryName(before string) string {
	nl := strings.LastIndexByte(before, '\n')
	if nl < 0 || strings.Trim(before[nl+1:], " \t-") != "" {
		return ""
	}
	prev := before[:nl]
	if p := strings.LastIndexByte(prev, '\n'); p >= 0 {
		prev = prev[p+1:]
	}
	prev = strings.TrimLeft(prev, " \t")
	prev = strings.TrimPrefix(prev, "- ")
	rest, ok := strings.CutPrefix(prev, "name:")
	if !ok {
		return ""
	}
	name := strings.Trim(strings.TrimSpace(rest), `"'`)
	if name == "" || len(name) > 64 || strings.ContainsAny(name, " \t") {
		return ""
	}
	return name
}

// azureKeyEntry reports whether before, the text before a "value" key,
// is inside an object of an Azure key list, {"keyName": "key1", …}.
func azureKeyEntry(before string) bool {
	if o := strings.LastIndexByte(before, '{'); o >= 0 && len(before)-o < 256 {
		return strings.Contains(before[o:], `"keyName"`)
	}
	return false
}

// arrayRest redacts, with rule r, the quoted elements that follow the
// first of a secret name's array value — "recovery_codes": ["…", "…"] —
// from j, just after the first element, to the array's end; it returns
// where it stopped.
func (sc *scanner) arrayRest(j int, r ruleID) int {
	s := sc.s
	for {
		k := j
		for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
			k++
		}
		if k >= len(s) || s[k] != ',' {
			return j
		}
		k++
		for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
			k++
		}
		if k >= len(s) || s[k] != '"' && s[k] != '\'' {
			return j
		}
		vs, ve, next := valueBounds(s, k, false)
		if ve > vs && !sc.standIn(s[vs:ve]) && !sc.emit(vs, ve, r) {
			return j
		}
		j = next
	}
}

// localPasswordName reports whether before ends with one of
// localPasswordNames, at the start of a word.
func localPasswordName(before string) bool {
	for _, w := range localPasswordNames {
		if strings.HasSuffix(before, w) {
			p := len(before) - len(w)
			return p == 0 || !isAlpha(before[p-1]) && before[p-1] < 0x80
		}
	}
	return false
}

// finalWord returns the last word of s, after its last blank or quote.
func finalWord(s string) string {
	if i := strings.LastIndexAny(s, " \t\"'"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// encodedQuery handles a query parameter inside a URL-encoded URL — the
// "%3D" at i of "…%3Ftoken%3D<value>%26…", as a redirect or next
// parameter carries it: a sensitive name's value, up to the next encoded
// or plain delimiter, is redacted.
func (sc *scanner) encodedQuery(i int) int {
	s := sc.s
	// The name follows an encoded '?' or '&' ("%3F", "%26").
	lo := max(sc.last, i-64)
	ks := -1
	for j := i - 3; j >= lo; j-- {
		if s[j] == '%' {
			if d := strings.ToUpper(s[j+1 : j+3]); d == "3F" || d == "26" {
				ks = j + 3
			}
			break
		}
		if !isWord[s[j]] && s[j] != '_' && s[j] != '-' && s[j] != '.' {
			break
		}
	}
	if ks < 0 || ks >= i || inlineKind(s[ks:i], true) == kindNone {
		return i + 3
	}
	vs := i + 3
	ve := vs
	for ve < len(s) && !valueStop(s, ve, true) && s[ve] != '%' {
		ve++
	}
	// A value may hold encoded bytes of its own; it ends at an encoded
	// '&' or '#'.
	for ve+2 < len(s) && s[ve] == '%' && !(s[ve+1] == '2' && (s[ve+2] == '6' || s[ve+2] == '3')) {
		ve += 3
		for ve < len(s) && !valueStop(s, ve, true) && s[ve] != '%' {
			ve++
		}
	}
	if ve == vs || sc.standIn(s[vs:ve]) || !sc.emit(vs, ve, ruleQuerySecret) {
		return i + 3
	}
	return ve
}

// xmlElement handles "<name>value</name>" at i for a secret name, as XML
// configuration holds it (<password>…</password>, <client-secret>…).
func (sc *scanner) xmlElement(i int) int {
	s := sc.s
	ns := i + 1
	ne := ns
	for ne < len(s) && ne-ns <= 64 && (isKeyChar[s[ne]] || s[ne] == ':') {
		ne++
	}
	if ne == ns || ne >= len(s) {
		return i + 1
	}
	name := s[ns:ne]
	if c := strings.LastIndexByte(name, ':'); c >= 0 {
		name = name[c+1:] // a namespace prefix, <wsse:Password>
	}
	gt := ne
	if s[ne] == ' ' {
		// Attributes: <wsse:Password Type="…#PasswordText">.
		e := strings.IndexByte(s[ne:min(len(s), ne+512)], '>')
		if e < 0 || s[ne+e-1] == '/' {
			return i + 1
		}
		gt = ne + e
	}
	if s[gt] != '>' || name == "" {
		return i + 1
	}
	if k := inlineKind(name, false); k != kindSecret && k != kindAPIKey {
		return i + 1
	}
	ne = gt
	vs := ne + 1
	ve := strings.Index(s[vs:min(len(s), vs+1024)], "</")
	if ve <= 0 {
		return i + 1
	}
	ve += vs
	v := s[vs:ve]
	if strings.ContainsAny(v, "<\n") || sc.standIn(v) || isBindParam(v) {
		return ne + 1
	}
	if sc.emit(vs, ve, ruleInlineSecret) {
		return ve
	}
	return ne + 1
}

// skipArrayOpen skips a '[' that opens a list of values at i, when a
// quoted value follows it — {"Authorization":["Basic …"]} — or a value
// that runs to its ']' — Go's map[Authorization:[Bearer …]].
func skipArrayOpen(s string, i int) int {
	j := i
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if strings.HasPrefix(s[j:], "[]string{") && j+9 < len(s) && s[j+9] == '"' {
		return j + 9 // Go's url.Values and http.Header: "password":[]string{"…"}
	}
	if j+1 >= len(s) || s[j] != '[' || s[j+1] == '[' {
		return i
	}
	if q := s[j+1]; q == '"' || q == '\'' {
		return j + 1
	}
	return i
}

// harName returns the header name of a {"name": "X", "value": …} pair
// whose "value" key is quoted at the end of before, or "".
func harName(before string) string {
	b := strings.TrimRight(before, " \t")
	if !strings.HasSuffix(b, ",") {
		return ""
	}
	b = strings.TrimRight(b[:len(b)-1], " \t")
	if !strings.HasSuffix(b, `"`) {
		return ""
	}
	b = b[:len(b)-1]
	q := strings.LastIndexByte(b, '"')
	if q < 0 || len(b)-q > 64 {
		return ""
	}
	name := b[q+1:]
	rest := strings.TrimRight(b[:q], " \t")
	if !strings.HasSuffix(rest, ":") {
		return ""
	}
	rest = strings.TrimRight(rest[:len(rest)-1], " \t")
	if !strings.HasSuffix(rest, `"name"`) && !strings.HasSuffix(rest, `"Name"`) {
		return ""
	}
	return name
}

// nextLineToken returns the bounds of a lone token on the line after the
// line break at i, if that is what follows: indentation, then at least 8
// bytes without blanks or ':' up to the end of that line.
func nextLineToken(s string, i int) (vs, ve, next int) {
	if i >= len(s) || s[i] != '\n' {
		return i, i, i
	}
	j := i + 1
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	e := j
	for e < len(s) && s[e] != '\n' && s[e] != '\r' && s[e] != ' ' && s[e] != ':' && s[e] != '\t' {
		e++
	}
	if e-j < 8 || (e < len(s) && s[e] != '\n' && s[e] != '\r') {
		return i, i, i
	}
	if strings.Contains(s[j:e], "REDACTED]") {
		// A placeholder inside: what stood there was redacted on its own,
		// and kept the line from being one token ("!0::0" → "![IP_REDACTED]").
		return i, i, i
	}
	return j, e, e
}

// standIn reports whether a value in a secret's place stands for it rather
// than being it: one of this engine's placeholders, or a mask (isMasked).
func (sc *scanner) standIn(v string) bool { return sc.e.isPlaceholder(v) || isMasked(v) }

// isMasked reports whether a value is a mask or a stand-in, not a secret:
// "***", "********", "****1234", "[FILTERED]" (Rails), "(sensitive
// value)" (Terraform), "<redacted>", and the answers of messages such as
// "(using password: YES)".
func isMasked(v string) bool {
	stars := strings.Count(v, "*") + strings.Count(v, "•") + strings.Count(v, "●")
	if stars >= 2 && 2*stars >= len(v) {
		return true
	}
	if stars >= 3 {
		// "***-**-6789", "**** **** **** 4242": at most a last four shown.
		alnum := 0
		for i := 0; i < len(v); i++ {
			if isWord[v[i]] {
				alnum++
			}
		}
		if alnum <= 4 {
			return true
		}
	}
	if w := strings.Trim(v, "*[]<>()_- "); len(w) < len(v) && isMaskWord(w) {
		// A mask word wrapped: "[FILTERED]" (Rails), "[Redacted]" (ASP.NET),
		// "**redacted**" (Ecto), "<secret>", "(hidden)". (Bare, "secret"
		// may be the password itself; the bare words that never are
		// follow.)
		return true
	}
	switch strings.ToLower(v) {
	case "[secure]", "<none>", "(sensitive value)",
		"redacted", "filtered", "masked", "hidden", "yes", "no", "none", "nil",
		"null", "n/a", "empty", "unset", "not set", "true", "false":
		return true
	}
	return false
}

// isMaskWord reports whether w is a word that masks print in a secret's
// place.
func isMaskWord(w string) bool {
	switch strings.ToLower(w) {
	case "redacted", "filtered", "masked", "hidden", "protected", "secret", "sensitive", "removed", "omitted":
		return true
	}
	return false
}

// isSentence reports whether v reads as a message: three or more words,
// the first capitalised, ending with a full stop.
func isSentence(v string) bool {
	return len(v) > 2 && isUpper(v[0]) && isLower(v[1]) && v[len(v)-1] == '.' && strings.Count(v, " ") >= 2
}

// phpDumpString returns where the quoted value starts when s[j:] is
// var_dump's line break, indentation and `string(N) "`; else 0.
func phpDumpString(s string, j int) int {
	k := j
	for k < len(s) && (s[k] == ' ' || s[k] == '\n' || s[k] == '\r' || s[k] == '\t') {
		k++
	}
	if !strings.HasPrefix(s[k:], "string(") {
		return 0
	}
	k += len("string(")
	d := k
	for k < len(s) && isDigit(s[k]) {
		k++
	}
	if k == d || !strings.HasPrefix(s[k:], ") \"") {
		return 0
	}
	return k + 2
}

// isAuditHash reports whether v is a value as Vault's audit log writes a
// secret: its HMAC, "hmac-sha256:<hex>", not the secret.
func isAuditHash(v string) bool {
	h, ok := strings.CutPrefix(v, "hmac-sha256:")
	if !ok || len(h) < 32 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if !isHex(h[i]) {
			return false
		}
	}
	return true
}

// isCodeRef reports whether v, the value after a secret name, is code that
// refers to the secret — a call ("client.fetch_token(url"), a setting
// ("settings.CLIENT_SECRET", "config.db.password") — as stack traces
// print it, rather than the secret.
func isCodeRef(v string) bool {
	end := len(v)
	call := false
	if p := strings.IndexAny(v, "(["); p > 0 {
		end, call = p, true // a call or a subscript: os.environ["KEY"]
	}
	path := v[:end]
	segs := strings.Split(path, ".")
	for _, seg := range segs {
		if seg == "" || isDigit(seg[0]) {
			return false
		}
		for i := 0; i < len(seg); i++ {
			if !isWord[seg[i]] && seg[i] != '_' {
				return false
			}
		}
	}
	if call {
		return true
	}
	if len(segs) < 2 {
		return false
	}
	switch segs[0] {
	case "settings", "config", "conf", "cfg", "env", "os", "process", "self", "this",
		"params", "opts", "options", "args", "secrets", "vars", "Values", "ctx", "app", "current_app":
		return true
	}
	last := segs[len(segs)-1]
	upper := false
	for i := 0; i < len(last); i++ {
		if isLower(last[i]) {
			return false
		}
		upper = upper || isUpper(last[i])
	}
	return upper
}

// inARN reports whether the ':' at j is inside an Amazon Resource Name:
// its token starts with "arn:".
func (sc *scanner) inARN(j int) bool {
	return strings.HasPrefix(sc.s[sc.tokenStart(j):j], "arn:")
}

// isBindParam reports whether v is a query parameter or a template
// reference rather than a value: ?, $1, %s, :name, @name, ${NAME}.
func isBindParam(v string) bool {
	switch {
	case v == "?" || v == "%s" || v == "%v" || v == "%d":
		return true
	case len(v) >= 3 && v[0] == '%' && v[1] == '(':
		// pyformat, "%(password)s" (the value stops at its ')')
		for i := 2; i < len(v); i++ {
			if !isWord[v[i]] && v[i] != '_' {
				return false
			}
		}
		return true
	case len(v) >= 2 && v[0] == '$' && (isUpper(v[1]) || v[1] == '_'):
		// a shell variable, $DB_PASSWORD
		for i := 2; i < len(v); i++ {
			if !isUpper(v[i]) && !isDigit(v[i]) && v[i] != '_' {
				return false
			}
		}
		return true
	case len(v) >= 2 && v[0] == '$' && isDigit(v[1]):
		for i := 2; i < len(v); i++ {
			if !isDigit(v[i]) {
				return false
			}
		}
		return true
	case len(v) >= 2 && (v[0] == ':' || v[0] == '@') && (isLower(v[1]) || isUpper(v[1]) || v[1] == '_'):
		for i := 2; i < len(v); i++ {
			if !isWord[v[i]] && v[i] != '_' {
				return false
			}
		}
		return true
	case isTemplateRef(v):
		return true
	}
	return false
}

// isTemplateRef reports whether v is a reference to a value kept
// elsewhere: ${NAME}; ${NAME:?message} (the message is not the value);
// a config provider's ${file:/path:key} (Kafka); $(NAME) (Kubernetes,
// Azure Pipelines); or a template expression ${{ … }} / {{ … }}. A
// default or alternative value (${NAME:-value}, ${NAME:+value}) holds a
// value of its own, which may be the secret: not a reference.
func isTemplateRef(v string) bool {
	if (strings.HasPrefix(v, "${{") || strings.HasPrefix(v, "{{")) && strings.HasSuffix(v, "}}") {
		return true
	}
	if len(v) >= 3 && v[0] == '{' && v[len(v)-1] == '}' && isTemplateName(v[1:len(v)-1]) {
		return true // {token}: a URI template's or a format string's variable
	}
	if len(v) >= 4 && strings.HasPrefix(v, "$(") && v[len(v)-1] == ')' {
		return isIdent(v[2 : len(v)-1])
	}
	if len(v) < 4 || !strings.HasPrefix(v, "${") || v[len(v)-1] != '}' {
		return false
	}
	body := v[2 : len(v)-1]
	if n, _, ok := strings.Cut(body, "?"); ok && isIdent(strings.TrimSuffix(n, ":")) {
		return true // ${NAME:?NAME must be set}
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '-' && i > 0 && body[i-1] == ':' || c == '+' || c == '=' {
			return false // a default or alternative value
		}
		if !isWord[c] && c != '_' && c != '.' && c != ':' && c != '-' && c != '/' {
			return false
		}
	}
	return true
}

// refText returns what of the reference v can hold a value of its own: the
// message of ${NAME:?message}, else all of v.
func refText(v string) string {
	if strings.HasPrefix(v, "${") && !strings.HasPrefix(v, "${{") {
		if n, msg, ok := strings.Cut(v[2:], "?"); ok && isIdent(strings.TrimSuffix(n, ":")) {
			return msg
		}
	}
	return v
}

// isTemplateName reports whether v, between single braces, names a
// variable: letters, '_' and '.' only. Digits are left out because that
// is what a value printed in braces (Go's %v of a struct) would have.
func isTemplateName(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isAlpha(v[i]) && v[i] != '_' && v[i] != '.' {
			return false
		}
	}
	return true
}

// isIdent reports whether v is an identifier: letters, digits, '_' and
// '.', not starting with a digit.
func isIdent(v string) bool {
	if v == "" || isDigit(v[0]) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isWord[v[i]] && v[i] != '_' && v[i] != '.' {
			return false
		}
	}
	return true
}

// anyMatch reports whether the rules would redact anything in v.
func (sc *scanner) anyMatch(v string) bool {
	inner := scanner{e: sc.e, s: v, on: sc.on}
	inner.run()
	return inner.n > 0
}

// startsWithSchemeWord reports whether v starts with a word of letters,
// digits or dashes followed by a space: "Bearer …", "AWS4-HMAC-SHA256 …".
func startsWithSchemeWord(v string) bool {
	j := 0
	for j < len(v) && (isWord[v[j]] || v[j] == '-') {
		j++
	}
	return j > 0 && j < len(v) && v[j] == ' '
}

// valueBounds finds the value that starts at or after i (blanks skipped):
// a quoted string (its content, without the quotes), an escaped-JSON
// quoted string, or a bare run up to a delimiter. next is where scanning
// resumes.
func valueBounds(s string, i int, query bool) (vs, ve, next int) {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i >= len(s) {
		return i, i, i
	}
	if i+1 < len(s) && (s[i] == 'b' || s[i] == 'u' || s[i] == 'r') && (s[i+1] == '\'' || s[i+1] == '"') {
		i++ // a Python bytes or string prefix: b'…', u"…"
	}
	if strings.HasPrefix(s[i:], `"""`) || strings.HasPrefix(s[i:], "'''") {
		// TOML's and Python's triple-quoted strings.
		if e := strings.Index(s[i+3:], s[i:i+3]); e > 0 {
			return i + 3, i + 3 + e, i + 6 + e
		}
	}
	switch q := s[i]; {
	case q == '"' || q == '\'':
		vs = i + 1
		j := vs
		for j < len(s) && s[j] != q && s[j] != '\n' {
			if s[j] == '\\' {
				j++
			}
			j++
		}
		if j > len(s) {
			j = len(s)
		}
		if j < len(s) && s[j] == q {
			return vs, j, j + 1
		}
		return vs, j, j
	case q == '\\' && i+1 < len(s) && s[i+1] == '"':
		vs = i + 2
		if e := strings.Index(s[vs:], `\"`); e >= 0 {
			return vs, vs + e, vs + e + 2
		}
		return vs, len(s), len(s)
	}
	vs = i
	// A template expression, "${{ secrets.TOKEN }}" (GitHub Actions) or
	// "{{ .Values.password }}" (Helm, Jinja), runs to its "}}".
	if strings.HasPrefix(s[i:], "${{") || strings.HasPrefix(s[i:], "{{") {
		if e := strings.Index(s[i:], "}}"); e > 0 && e < 256 && strings.IndexByte(s[i:i+e], '\n') < 0 {
			return vs, i + e + 2, i + e + 2
		}
	}
	// A template reference, ${NAME} or $(NAME), ends at its own brace when
	// a delimiter follows it; so does a URI template's or a format string's
	// {name} ("?token={token}&…").
	if s[i] == '{' {
		if e := strings.IndexByte(s[i:], '}'); e > 1 && e < 64 && isTemplateName(s[i+1:i+e]) {
			if te := i + e + 1; te == len(s) || valueStop(s, te, query) {
				return vs, te, te
			}
		}
	}
	if strings.HasPrefix(s[i:], "${") || strings.HasPrefix(s[i:], "$(") {
		closer := byte('}')
		if s[i+1] == '(' {
			closer = ')'
		}
		if e := strings.IndexByte(s[i:], closer); e > 2 && e < 128 {
			if te := i + e + 1; te == len(s) || valueStop(s, te, query) {
				return vs, te, te
			}
		}
	}
	j := i
	for j < len(s) && !valueStop(s, j, query) {
		j++
	}
	return vs, j, j
}

// valueStop reports whether a bare value ends before s[j].
func valueStop(s string, j int, query bool) bool {
	switch c := s[j]; c {
	case ' ', '\t', '\n', '\r', '"', '\'', ',', ';', '&', ')', '}', '<', '>', '`':
		return true
	case '#':
		return query
	case '\\':
		return j+1 < len(s) && (s[j+1] == '"' || s[j+1] == 'n' || s[j+1] == 'r' || s[j+1] == 't')
	}
	return false
}

// cookieAttrs are Set-Cookie attributes; their values are not secret.
var cookieAttrs = []string{
	"path", "domain", "expires", "max-age", "samesite", "secure",
	"httponly", "priority", "partitioned", "version", "comment",
}

// cookieHeader redacts every cookie value of a Cookie or Set-Cookie header
// value starting at i. Which cookies carry a session is not knowable from
// the name alone ("sid", "connect.sid", "__Host-x", "id_token"…), so all
// of them are redacted; the attributes of Set-Cookie are kept.
func (sc *scanner) cookieHeader(start int) int {
	s := sc.s
	i := start
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	bound := len(s)
	if i < len(s) && (s[i] == '"' || s[i] == '\'') {
		if e := strings.IndexByte(s[i+1:], s[i]); e >= 0 {
			bound = i + 1 + e
		}
		i++
	}
	if e := strings.IndexByte(s[i:bound], '\n'); e >= 0 {
		bound = i + e
	}
	j := i
	for j < bound {
		for j < bound && (s[j] == ' ' || s[j] == ';') {
			j++
		}
		ns := j
		for j < bound && isCookieName(s[j]) {
			j++
		}
		name := s[ns:j]
		if j >= bound || s[j] != '=' {
			if j < bound && s[j] == ';' && isCookieAttr(name) {
				continue // a flag attribute: "HttpOnly;"
			}
			// Not a cookie list any more: rescan this element as text.
			return ns
		}
		j++
		vs := j
		if isCookieAttr(name) {
			// An attribute value ends at a blank; the rest of a date
			// ("Expires=Wed, 21 Oct 2015 …") is left to the main scan.
			for j < bound && s[j] != ';' && !isSpace(s[j]) {
				j++
			}
			if j < bound && s[j] != ';' {
				return max(j, start)
			}
			continue
		}
		for j < bound && s[j] != ';' && !isSpace(s[j]) && s[j] != '"' && s[j] != ',' && s[j] != '\\' {
			j++
		}
		if j > vs && !sc.standIn(s[vs:j]) && !plainCookieValue(s[vs:j]) {
			sc.emit(vs, j, ruleCookie)
		}
		if j < bound && s[j] != ';' {
			return max(j, start)
		}
	}
	return max(j, start)
}

// plainCookieValue reports whether a cookie's value is a setting, not an
// identifier: at most five letters, digits or dashes ("de", "en-US",
// "dark", "1"). No session or tracking ID is that short.
func plainCookieValue(v string) bool {
	if len(v) > 5 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isAlpha(v[i]) && !isDigit(v[i]) && v[i] != '-' {
			return false
		}
	}
	return true
}

func isCookieName(c byte) bool {
	return isWord[c] || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isCookieAttr(name string) bool {
	for _, a := range cookieAttrs {
		if equalFold(name, a) {
			return true
		}
	}
	return false
}

// url handles "scheme://" at i: the password of the userinfo
// ("postgres://user:pass@host" → "user:[REDACTED]@host"), a bare token as
// userinfo (Sentry DSN keys, "https://<token>@github.com"), an encoded
// e-mail address as user name, and Slack webhook paths.
func (sc *scanner) url(i int) int {
	s := sc.s
	if p := sc.at(i - 1); !(isWord[p] || p == '+' || p == '.' || p == '-') {
		return i + 1
	}
	as := i + 3
	ae := as
	for ae < len(s) && ae-as < 512 && !isAuthorityStop(s[ae]) {
		ae++
	}
	if ae < len(s) && (s[ae] == '#' || s[ae] == '?') && strings.IndexByte(s[as:ae], ':') >= 0 && strings.IndexByte(s[as:ae], '@') < 0 {
		// A password written raw, "postgresql://billing:Vx8#qL2m@db": the
		// '#' or '?' starts no fragment or query when the userinfo has not
		// ended yet and an '@' follows in the same token, before any '/'.
		e := ae
		for e < len(s) && e-as < 512 && s[e] != '/' && s[e] != '@' && !isSpace(s[e]) && s[e] != '"' && s[e] != '\'' {
			e++
		}
		if e < len(s) && s[e] == '@' {
			ae = e + 1
			for ae < len(s) && ae-as < 512 && !isAuthorityStop(s[ae]) {
				ae++
			}
		}
	}
	if ae-as >= 512 {
		// No authority is that long; and where a window ended, a second
		// pass, seeing this one's placeholders, would end it elsewhere.
		return as
	}
	at := strings.LastIndexByte(s[as:ae], '@')
	if at < 0 {
		if end := sc.slackWebhook(as, ae); end > 0 {
			return end
		}
		return as
	}
	at += as
	ui := s[as:at]
	if c := strings.IndexByte(ui, ':'); c >= 0 {
		user, pass := ui[:c], ui[c+1:]
		if strings.Contains(user, "%40") || strings.IndexByte(user, '@') >= 0 {
			sc.emit(as, as+c, ruleEmail)
		} else if tokenLike(user) {
			// A key as the user name: a legacy Sentry DSN's public key
			// (https://<public>:<secret>@…).
			sc.emit(as, as+c, ruleURLPassword)
		}
		if pass != "" && !sc.standIn(pass) && !isBindParam(pass) {
			// (A reference stays: "postgres://app:$(PG_PASSWORD)@…".)
			sc.emit(as+c+1, at, ruleURLPassword)
		}
	} else if tokenLike(ui) {
		sc.emit(as, at, ruleURLPassword)
	} else if strings.Contains(ui, "%40") {
		sc.emit(as, at, ruleEmail)
	}
	// Past the '@': a URL's user name is not an e-mail local part.
	return at + 1
}

func isAuthorityStop(c byte) bool {
	switch c {
	case '/', '?', '#', ' ', '\t', '\n', '\r', '"', '\'', '<', '>', '\\', '`', '{', '}', '|':
		return true
	}
	return false
}

// tokenLike reports whether a URL user name is really a credential: long,
// from a token alphabet, with a digit.
func tokenLike(u string) bool {
	if len(u) < 16 {
		return false
	}
	digit := false
	for i := 0; i < len(u); i++ {
		c := u[i]
		if !isWord[c] && c != '_' && c != '-' {
			return false
		}
		digit = digit || isDigit(c)
	}
	return digit
}

// slackWebhook redacts the path of https://hooks.slack.com/services/….
func (sc *scanner) slackWebhook(as, ae int) int {
	s := sc.s
	if !equalFold(s[as:ae], "hooks.slack.com") || !strings.HasPrefix(s[ae:], "/services/") {
		return 0
	}
	vs := ae + len("/services/")
	ve := vs
	for ve < len(s) && !isSpace(s[ve]) && s[ve] != '"' && s[ve] != '\'' && s[ve] != '\\' && s[ve] != '?' && s[ve] != '#' {
		ve++
	}
	if ve > vs && sc.emit(vs, ve, ruleAPIKey) {
		return ve
	}
	return 0
}

// pem matches a PEM private-key block from "-----BEGIN … PRIVATE KEY-----"
// to its END line, whatever the line breaks look like (raw, JSON-escaped
// "\n", YAML-indented). A block cut short by truncation is redacted to the
// end of the string: a partial key is still a key.
func (sc *scanner) pem(i int) int {
	s := sc.s
	const begin = "-----BEGIN "
	if !strings.HasPrefix(s[i:], begin) {
		return i + 1
	}
	hs := i + len(begin)
	he := strings.Index(s[hs:min(len(s), hs+64)], "-----")
	if he < 0 || !strings.Contains(s[hs:hs+he], "PRIVATE KEY") {
		return i + 1
	}
	end := len(s)
	if e := strings.Index(s[hs+he+5:], "-----END "); e >= 0 {
		if body := strings.TrimSpace(s[hs+he+5 : hs+he+5+e]); sc.standIn(body) {
			// A block whose body is already a placeholder or a mask:
			// "-----BEGIN PRIVATE KEY-----[PRIVATE_KEY_REDACTED]-----END …".
			return hs + he + 5 + e
		}
		es := hs + he + 5 + e + len("-----END ")
		if c := strings.Index(s[es:min(len(s), es+64)], "-----"); c >= 0 {
			end = es + c + 5
		}
	} else if !pemBodyFollows(s[hs+he+5:]) {
		// "expected -----BEGIN PRIVATE KEY----- header, found none": a
		// header named in prose, no key. A key cut short keeps its body
		// and is redacted to the end. (What the header holds is scanned.)
		return i + 1
	}
	if sc.emit(i, end, rulePrivateKey) {
		return end
	}
	return i + 1
}

// sqlQuote matches the password literal of "IDENTIFIED BY '…'",
// "PASSWORD '…'" (MySQL, PostgreSQL, Oracle) and MySQL's legacy
// "PASSWORD('…')" when the quote at i opens it.
func (sc *scanner) sqlQuote(i int) int {
	s := sc.s
	j := i
	call := j > sc.last && s[j-1] == '('
	if call {
		j--
	}
	for j > sc.last && s[j-1] == ' ' {
		j--
	}
	if j == i {
		return i + 1
	}
	we := j
	for j > sc.last && isWord[s[j-1]] {
		j--
	}
	w := s[j:we]
	switch {
	case equalFold(w, "password"):
	case equalFold(w, "by") && !call:
		k := j
		for k > sc.last && s[k-1] == ' ' {
			k--
		}
		if k == j || !hasFoldSuffix(s[sc.last:k], "identified") {
			return i + 1
		}
	default:
		return i + 1
	}
	vs := i + 1
	ve := vs
	for ve < len(s) && s[ve] != '\n' {
		if s[ve] == '\'' {
			if ve+1 < len(s) && s[ve+1] == '\'' {
				ve += 2 // '' escapes a quote
				continue
			}
			break
		}
		ve++
	}
	if ve == vs || sc.standIn(s[vs:ve]) || !sc.emit(vs, ve, ruleSQLPassword) {
		return i + 1
	}
	return ve
}

// redisAuth matches the arguments of a Redis AUTH command ("AUTH pass",
// "AUTH user pass") up to the end of the line.
func (sc *scanner) redisAuth(i int) int {
	s := sc.s
	if strings.HasPrefix(s[i:], `AUTH" "`) && sc.at(i-1) == '"' {
		return sc.redisMonitorAuth(i + len(`AUTH" "`))
	}
	if !strings.HasPrefix(s[i:], "AUTH ") {
		return 0
	}
	p := sc.at(i - 1)
	if p != 0 && !isSpace(p) && p != '"' && p != '\'' && p != '=' && p != '[' && p != '(' {
		return 0
	}
	vs := i + 5
	for vs < len(s) && s[vs] == ' ' {
		vs++
	}
	ve := vs
	if (p == '[' || p == '(') && ve < len(s) && s[ve] == '[' {
		// Our own placeholder, "[AUTH [REDACTED], …]", is one argument.
		if e := strings.IndexByte(s[ve:], ']'); e > 0 {
			ve += e + 1
		}
	}
	for ve < len(s) && s[ve] != '\n' && s[ve] != '\r' && s[ve] != '"' && s[ve] != '\'' && s[ve] != '\\' {
		if p == '[' && (s[ve] == ',' || s[ve] == ']') || p == '(' && s[ve] == ')' {
			break // a command in go-redis's "[AUTH pass, SELECT 3, …]", the debug exporter's Str(AUTH …)
		}
		ve++
	}
	for ve > vs && s[ve-1] == ' ' {
		ve--
	}
	if m, rest, _ := strings.Cut(s[vs:ve], " "); smtpMechanism(m) {
		// SMTP's "AUTH PLAIN <credentials>": the mechanism stays.
		if rest == "" {
			return 0
		}
		vs += len(m) + 1
		for vs < ve && s[vs] == ' ' {
			vs++
		}
	}
	if ve == vs || sc.standIn(s[vs:ve]) || isBindParam(s[vs:ve]) || authMessage(s[vs:ve]) || !sc.emit(vs, ve, ruleSQLPassword) {
		return 0
	}
	return ve
}

// smtpMechanism reports whether w is an SASL mechanism of SMTP's AUTH.
func smtpMechanism(w string) bool {
	switch w {
	case "LOGIN", "PLAIN", "CRAM-MD5", "DIGEST-MD5", "XOAUTH2", "OAUTHBEARER", "GSSAPI", "NTLM", "EXTERNAL", "SCRAM-SHA-1", "SCRAM-SHA-256":
		return true
	}
	return false
}

// authMessage reports whether what follows "AUTH" is a message about the
// command ("AUTH failed: WRONGPASS …") rather than its arguments.
func authMessage(args string) bool {
	w, _, _ := strings.Cut(args, " ")
	if strings.HasSuffix(w, ":") || strings.HasSuffix(w, ",") || strings.HasSuffix(w, ".") ||
		(strings.HasPrefix(w, "<") && strings.HasSuffix(w, ">")) {
		// "AUTH failed: …", "ERR AUTH <password> called without …"
		return true
	}
	return isMessageWord(w)
}

// redisMonitorAuth matches the quoted arguments of AUTH as MONITOR and the
// slow log print them — "AUTH" "pass" or "AUTH" "user" "pass" — from vs,
// after the first argument's opening quote, to the last quote of the line.
func (sc *scanner) redisMonitorAuth(vs int) int {
	s := sc.s
	le := vs
	for le < len(s) && s[le] != '\n' && s[le] != '\r' {
		le++
	}
	ve := vs + strings.LastIndexByte(s[vs:le], '"')
	if ve <= vs || sc.standIn(s[vs:ve]) || !sc.emit(vs, ve, ruleSQLPassword) {
		return 0
	}
	return ve
}

// cliSecret matches a password given on a command line: mysql's (and
// mariadb's, mysqldump's) "-p<password>" — attached: a bare "-p" prompts —
// and curl's "-u user:password" / "--user user:password", whose user stays.
// Both need the command's name earlier in the text: "-p" and "-u" mean
// other things to other commands (ssh's "-p 22", docker's "-u 1000:1000").
func (sc *scanner) cliSecret(i int) int {
	s := sc.s
	if p := sc.at(i - 1); p != 0 && !isSpace(p) && p != '\'' && p != '"' {
		return 0
	}
	var vs, ve int
	switch {
	case s[i+1] == 'p':
		if !strings.Contains(s[:i], "mysql") && !strings.Contains(s[:i], "mariadb") {
			return 0
		}
		vs, ve = quotedToken(s, i+2)
	case s[i+1] == 'u' || strings.HasPrefix(s[i:], "--user"):
		if !strings.Contains(s[:i], "curl") {
			return 0
		}
		j := i + 2
		if s[i+1] == '-' {
			j = i + len("--user")
			if j < len(s) && s[j] == '=' {
				j++
			} else if j < len(s) && !isSpace(s[j]) {
				return 0 // "--user-agent"
			}
		}
		for j < len(s) && s[j] == ' ' {
			j++
		}
		vs, ve = quotedToken(s, j)
		c := strings.IndexByte(s[vs:ve], ':')
		if c < 0 {
			return 0 // "-u user": curl prompts for the password
		}
		vs += c + 1
	default:
		return 0
	}
	if ve <= vs || sc.standIn(s[vs:ve]) || isCodeRef(s[vs:ve]) || !sc.emit(vs, ve, ruleInlineSecret) {
		return 0
	}
	return ve
}

// quotedToken returns the bounds of the token at i: up to the closing quote
// when it starts with one, else up to the next space or quote.
func quotedToken(s string, i int) (int, int) {
	if i < len(s) && (s[i] == '\'' || s[i] == '"') {
		if e := strings.IndexByte(s[i+1:], s[i]); e >= 0 {
			return i + 1, i + 1 + e
		}
		i++
	}
	j := i
	for j < len(s) && !isSpace(s[j]) && s[j] != '\'' && s[j] != '"' {
		j++
	}
	return i, j
}

// isEnvName reports whether v is an environment variable's name in the
// usual style: upper-case words joined by '_' ("GITHUB_TOKEN").
func isEnvName(v string) bool {
	if len(v) < 3 || !isUpper(v[0]) || !strings.Contains(v, "_") || v[len(v)-1] == '_' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !isUpper(c) && !isDigit(c) && !(c == '_' && v[i-1] != '_') {
			return false
		}
	}
	return true
}

// notASecretValue reports whether v, the value of the secret-named key at
// s[:ve], is something else that such names are given: a GraphQL argument
// passing the variable of its own name ("token: $token"), a size as
// kubectl describe prints a Secret's data ("password:  24 bytes"), a
// permission level (GitHub Actions' "id-token: write"), or the name of an
// entry in a Secret ("secretKey: password").
func notASecretValue(s, key, v string, ve int) bool {
	switch {
	case len(v) == len(key)+1 && v[0] == '$' && v[1:] == key:
		return true
	case strings.HasPrefix(s[ve:], " bytes") && strings.Trim(v, "0123456789") == "":
		return true
	case strings.HasPrefix(s[ve:], " ") && isMessageWord(v):
		// The first word of a sentence, "ExpiredToken: The security token
		// …", "password: must be at least 12 characters".
		return true
	case v == "write" || v == "read" || v == "none":
		return len(key) > 5 && equalFold(key[len(key)-5:], "token")
	case len(key) > 3 && equalFold(key[len(key)-3:], "key") && keyClass(v) == kcSecret && isIdent(v):
		// A secret's key within a Kubernetes Secret, "secretKey: password".
		return true
	}
	return false
}

// isMessageWord reports whether w is a word that begins the message after
// a credential's name or command in an error or a status line ("The",
// "must", "failed", "required") — a word no credential is.
func isMessageWord(w string) bool {
	switch strings.ToLower(w) {
	case "the", "a", "an", "is", "was", "are", "were", "has", "have", "had", "not",
		"must", "should", "will", "may", "cannot", "can", "does", "did", "do",
		"expired", "invalid", "missing", "required", "too", "no", "this", "that",
		"failed", "error", "ok", "succeeded", "successful", "rejected", "denied", "timeout",
		"expected", "unexpected", "unsupported", "unknown", "malformed", "mismatch",
		"unable", "could", "already", "revoked", "verification", "validation":
		return true
	}
	return false
}

// pemBodyFollows reports whether s, what follows a PEM header, starts (past
// blanks and raw or escaped line breaks) with a line of a PEM body: 16 or
// more base64 characters.
func pemBodyFollows(s string) bool {
	i := 0
	for i < len(s) {
		switch {
		case isSpace(s[i]):
			i++
		case strings.HasPrefix(s[i:], `\n`) || strings.HasPrefix(s[i:], `\r`):
			i += 2
		default:
			n := 0
			for i+n < len(s) && charset[s[i+n]]&setB64 != 0 {
				n++
			}
			return n >= 16
		}
	}
	return false
}

// placeholderThenScope reports whether v is a placeholder followed by an
// AWS credential scope, as another redactor leaves X-Amz-Credential:
// "[REDACTED]%2F20240517%2Fus-east-1%2Fs3%2Faws4_request".
func (sc *scanner) placeholderThenScope(v string) bool {
	if len(v) < 2 || v[0] != '[' {
		return false
	}
	e := strings.IndexByte(v, ']')
	if e < 0 || !sc.e.isPlaceholder(v[:e+1]) {
		return false
	}
	rest := v[e+1:]
	if strings.HasPrefix(rest, "/") {
		rest = strings.ReplaceAll(rest, "/", "%2F")
	}
	parts := strings.Split(strings.ReplaceAll(rest, "%2f", "%2F"), "%2F")
	if len(parts) != 5 || parts[0] != "" || len(parts[1]) != 8 || strings.Trim(parts[1], "0123456789") != "" ||
		parts[4] != "aws4_request" {
		return false
	}
	for _, p := range parts[2:4] {
		if p == "" || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return false
		}
	}
	return true
}
