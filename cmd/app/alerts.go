package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/otelsentry/otelsentry/alerts"
)

const alertsUsage = `usage: app alerts plan|apply [-file alerts.yaml] [-org ORG -project PROJECT]

  plan    without -org/-project: print the Sentry API payloads alerts.yaml
          renders to, offline. With them: compare with Sentry and print what
          apply would create, update or leave unchanged.
  apply   create or update the rules in Sentry (needs -org, -project and
          SENTRY_AUTH_TOKEN); a second apply changes nothing.

environment:
  SENTRY_AUTH_TOKEN  auth token with alerts:write (and project:write for the
                     cron monitor); sent only as a bearer header, never printed
  SENTRY_URL         Sentry's base URL (default https://sentry.io)
`

// runAlerts is `app alerts …`: alert rules as code (see alerts.yaml).
func runAlerts(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return alertsCommand{getenv: os.Getenv}.run(ctx, args, stdout, stderr)
}

// alertsCommand holds what the command reads from outside its arguments,
// so tests can give their own environment.
type alertsCommand struct {
	getenv func(string) string
	// clientOptions are added to the Sentry client's (tests: fast retries).
	clientOptions []alerts.ClientOption
}

func (c alertsCommand) run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "plan" && args[0] != "apply") {
		fmt.Fprint(stderr, alertsUsage)
		return 2
	}
	verb := args[0]
	fs := flag.NewFlagSet("alerts "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, alertsUsage) }
	file := fs.String("file", "alerts.yaml", "alert rules file")
	org := fs.String("org", "", "Sentry organization slug")
	project := fs.String("project", "", "Sentry project slug")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up on Sentry after this long")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "alerts %s: unexpected argument %q\n", verb, fs.Arg(0))
		return 2
	}
	if (*org == "") != (*project == "") {
		fmt.Fprintf(stderr, "alerts %s: give both -org and -project, or neither\n", verb)
		return 2
	}
	online := *org != ""
	if verb == "apply" && !online {
		fmt.Fprintln(stderr, "alerts apply: -org and -project are required")
		return 2
	}

	cfg, err := alerts.Load(*file)
	if err != nil {
		fmt.Fprintf(stderr, "alerts %s: %v\n", verb, err)
		return 1
	}
	projectSlug := *project
	if !online {
		projectSlug = "{project}"
	}
	resources, err := alerts.Render(cfg, projectSlug)
	if err != nil {
		fmt.Fprintf(stderr, "alerts %s: %v\n", verb, err)
		return 1
	}
	if !online {
		printOffline(stdout, *file, cfg, resources)
		return 0
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := c.online(ctx, verb, alerts.Scope{Org: *org, Project: *project}, resources, stdout); err != nil {
		fmt.Fprintf(stderr, "alerts %s: %v\n", verb, err)
		return 1
	}
	return 0
}

func (c alertsCommand) online(ctx context.Context, verb string, scope alerts.Scope, resources []alerts.Resource, stdout io.Writer) error {
	token := c.getenv("SENTRY_AUTH_TOKEN")
	if token == "" {
		return errors.New("SENTRY_AUTH_TOKEN is not set (create one in Sentry under Settings → Auth Tokens)")
	}
	base := c.getenv("SENTRY_URL")
	if base == "" {
		base = "https://sentry.io"
	}
	client, err := alerts.NewClient(base, token, c.clientOptions...)
	if err != nil {
		return err
	}
	if verb == "apply" {
		// Refuse before reading Sentry when a target is missing: the
		// operator fixes alerts.yaml first either way.
		if err := missingTargets(resources); err != nil {
			return err
		}
	}
	changes, err := client.Plan(ctx, scope, resources)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Sentry %s, organization %s, project %s:\n", base, scope.Org, scope.Project)
	counts := map[alerts.Action]int{}
	for _, ch := range changes {
		counts[ch.Action]++
		fmt.Fprintln(stdout, "  "+describe(ch))
	}
	fmt.Fprintf(stdout, "Plan: %d to create, %d to update, %d unchanged.\n", counts[alerts.Create], counts[alerts.Update], counts[alerts.Unchanged])
	if verb == "plan" {
		if err := missingTargets(resources); err != nil {
			fmt.Fprintf(stdout, "note: apply will refuse: %v\n", err)
		}
		return nil
	}
	if counts[alerts.Create]+counts[alerts.Update] == 0 {
		fmt.Fprintln(stdout, "No changes: Sentry matches alerts.yaml.")
		return nil
	}
	done, err := client.Apply(ctx, scope, changes)
	for _, ch := range done {
		past := "created"
		if ch.Action == alerts.Update {
			past = "updated"
		}
		fmt.Fprintf(stdout, "%s %s (id %s)\n", past, ch.Resource, ch.ID)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Apply complete: %d created, %d updated, %d unchanged.\n", counts[alerts.Create], counts[alerts.Update], counts[alerts.Unchanged])
	return nil
}

// missingTargets names every rule whose notification target is not
// configured, with the fields alerts.yaml must set.
func missingTargets(resources []alerts.Resource) error {
	var lines []string
	seen := map[string]bool{}
	for _, r := range resources {
		if len(r.Missing) == 0 || seen[r.Rule] {
			continue
		}
		seen[r.Rule] = true
		lines = append(lines, fmt.Sprintf("rule %q needs %s", r.Rule, strings.Join(r.Missing, ", ")))
	}
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf("%w in alerts.yaml: %s", alerts.ErrTargetsMissing, strings.Join(lines, "; "))
}

func describe(ch alerts.Change) string {
	switch ch.Action {
	case alerts.Create:
		return fmt.Sprintf("+ create     %s", ch.Resource)
	case alerts.Update:
		return fmt.Sprintf("~ update     %s (id %s): %s", ch.Resource, ch.ID, strings.Join(ch.Fields, ", "))
	default:
		return fmt.Sprintf("= unchanged  %s (id %s)", ch.Resource, ch.ID)
	}
}

// printOffline prints each rendered payload with the endpoint it goes to.
func printOffline(w io.Writer, file string, cfg *alerts.Config, resources []alerts.Resource) {
	n := map[alerts.ResourceType]int{}
	for _, r := range resources {
		n[r.Type]++
	}
	fmt.Fprintf(w, "%s: %d rules → %s, %s, %s (offline render: give -org and -project to compare with Sentry)\n",
		file, len(cfg.Rules), count(n[alerts.IssueAlert], "issue alert rule"), count(n[alerts.MetricAlert], "metric alert rule"), count(n[alerts.CronMonitor], "cron monitor"))
	rules := map[string]alerts.Rule{}
	for _, r := range cfg.Rules {
		rules[r.Name] = r
	}
	var missing []string
	for _, r := range resources {
		fmt.Fprintf(w, "\n# %s, from rule %q\n", r, r.Rule)
		switch r.Type {
		case alerts.IssueAlert:
			fmt.Fprintln(w, "# POST /api/0/projects/{org}/{project}/rules/  (PUT …/rules/{rule_id}/ to update)")
		case alerts.MetricAlert:
			fmt.Fprintln(w, "# POST /api/0/organizations/{org}/alert-rules/  (PUT …/alert-rules/{alert_rule_id}/ to update)")
		case alerts.CronMonitor:
			fmt.Fprintln(w, "# POST /api/0/organizations/{org}/monitors/  (PUT …/monitors/{monitor_slug}/ to update)")
			rule := rules[r.Rule]
			fmt.Fprintf(w, "# an issue opens ≈%s after the last check-in; check-ins upsert this monitor_config:\n", rule.Cron.SilenceBeforeIssue())
			mc, _ := json.Marshal(rule.SentryMonitorConfig())
			fmt.Fprintf(w, "#   %s\n", mc)
		}
		fmt.Fprintf(w, "%s", alerts.JSON(r.Payload))
		missing = append(missing, r.Missing...)
	}
	if len(missing) > 0 {
		fmt.Fprintf(w, "\nnote: %s not configured in %s (placeholders above); apply will refuse until they are set.\n", strings.Join(dedupe(missing), ", "), file)
	}
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
