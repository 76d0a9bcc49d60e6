package main

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Canaries: a recognisable API secret and recognisable personal data.
const (
	canarySecret = "SECRET-canary-7f3a9c2e5b1d4a86"
	wrongSecret  = "SECRET-wrong-canary-0b9e8d7c6a5f"
	canaryKey    = "canary-key-1"
)

// canaryPII is every piece of personal data the configuration holds: email_user and the
// fields of sender_data (README: these are what "(sensitive)" stands for).
var canaryPII = []string{
	"pii-canary@example.com", "pii-canary-2@example.org", "pii-canary-changed@example.com",
	"Zebedeecanary", "Quillfeathercanary", "1971-02-03", "Canarylegal Trading GmbH",
}

const secretsConfig = `invoice "pii-natural" {
  title              = "Canary natural"
  currency           = "EUR"
  sender_currency    = "BTC"
  amount             = "25.00"
  timer              = true
  end_user_reference = "customer-1"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "pii-canary@example.com"
  sender_type        = "natural"
  sender_data {
    first_name    = "Zebedeecanary"
    last_name     = "Quillfeathercanary"
    date_of_birth = "1971-02-03"
  }
}

invoice "pii-legal" {
  title              = "Canary legal"
  currency           = "USD"
  amount             = "30.00"
  timer              = false
  end_user_reference = "company-1"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "pii-canary-2@example.org"
  sender_type        = "legal"
  sender_data {
    legal_name              = "Canarylegal Trading GmbH"
    country_of_registration = "DEU"
  }
}
`

// secretForms are the ways a secret could leak besides its plain text.
func secretForms(s string) []string {
	b := []byte(s)
	return []string{s, hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
		base64.StdEncoding.EncodeToString(b), base64.URLEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b)}
}

// TestSecretsAndPersonalData runs every command (fmt only with -check: its -diff shows the
// configuration's own lines) against a real emulator process with a
// recognisable secret and recognisable personal data, and scans everything they write: the
// secret appears nowhere; personal data only where the README says it is: the state file,
// state export (a backup, "it holds the same personal data"), and the outputs of commands
// given -show-sensitive. Never in a plan file (it holds no request body), nor in show of a
// plan file without its configuration, even with -show-sensitive. State and plan files are
// 0600.
func TestSecretsAndPersonalData(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary about 40 times")
	}
	emu, banner, emuLog := startCommand(t, "emulator", "-listen=127.0.0.1:0", "-key="+canaryKey, "-secret="+canarySecret)
	var bannerText strings.Builder
	endpoint := ""
	for endpoint == "" {
		line, err := banner.ReadString('\n')
		if err != nil {
			t.Fatalf("emulator banner: %v", err)
		}
		bannerText.WriteString(line)
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "INVOICEFORM_ENDPOINT="); ok {
			endpoint = v
		}
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "main.hcl"), []byte(secretsConfig))
	env := []string{"INVOICEFORM_ENDPOINT=" + endpoint, "INVOICEFORM_API_KEY=" + canaryKey, "INVOICEFORM_API_SECRET=" + canarySecret}
	wrongEnv := []string{"INVOICEFORM_ENDPOINT=" + endpoint, "INVOICEFORM_API_KEY=" + canaryKey, "INVOICEFORM_API_SECRET=" + wrongSecret}

	type output struct {
		name      string
		text      string
		sensitive bool // personal data is allowed here, and must be there
	}
	var outputs []output
	step := func(environ []string, code int, sensitive bool, args ...string) hostileResult {
		t.Helper()
		r := runBinary(t, dir, environ, args...)
		if r.code != code {
			t.Fatalf("invoiceform %s: exit %d, want %d\n%s", strings.Join(args, " "), r.code, code, r.out)
		}
		outputs = append(outputs, output{"invoiceform " + strings.Join(args, " "), r.out, sensitive})
		return r
	}
	edit := func(old, new string) {
		t.Helper()
		src := read(t, filepath.Join(dir, "main.hcl"))
		if !strings.Contains(string(src), old) {
			t.Fatalf("main.hcl has no %q", old)
		}
		write(t, filepath.Join(dir, "main.hcl"), []byte(strings.Replace(string(src), old, new, 1)))
	}

	// Before anything was applied.
	step(env, 0, false, "version")
	step(env, 0, false, "fmt", "-check")
	step(env, 0, false, "validate")
	step(env, 0, false, "validate", "-json")
	step(env, 0, false, "plan")
	step(env, 0, false, "plan", "-json")
	step(env, 0, false, "plan", "-markdown")
	step(env, 0, true, "plan", "-show-sensitive")
	step(env, 0, true, "plan", "-json", "-show-sensitive")
	step(env, 0, false, "plan", "-out=saved.plan")
	step(env, 0, false, "show", "saved.plan")
	step(env, 0, false, "show", "-json", "saved.plan")
	step(env, 0, false, "show", "-markdown", "saved.plan")
	step(env, 0, true, "show", "-show-sensitive", "saved.plan")
	step(env, 0, true, "show", "-json", "-show-sensitive", "saved.plan")
	planFile := read(t, filepath.Join(dir, "saved.plan"))
	// Without the configuration, the saved plan has no personal data to show.
	elsewhere := t.TempDir()
	write(t, filepath.Join(elsewhere, "copy.plan"), planFile)
	for _, args := range [][]string{{"show", "-show-sensitive", "copy.plan"}, {"show", "-json", "-show-sensitive", "copy.plan"}} {
		r := runBinary(t, elsewhere, env, args...)
		if r.code != 0 {
			t.Fatalf("invoiceform %s elsewhere: exit %d\n%s", strings.Join(args, " "), r.code, r.out)
		}
		outputs = append(outputs, output{"invoiceform " + strings.Join(args, " ") + " without the configuration", r.out, false})
	}

	// A wrong secret: refused before anything is sent, the state left without records.
	for _, args := range [][]string{{"apply", "-auto-approve"}, {"apply", "-auto-approve", "-json"}} {
		if r := step(wrongEnv, 1, false, args...); !strings.Contains(r.out, "bad_header_signature") || !strings.Contains(r.out, "INVOICEFORM_API_SECRET") {
			t.Errorf("%v with a wrong secret: no auth error that names the secret's variable:\n%s", args, r.out)
		}
	}

	// Apply the saved plan, then more through a plain apply, in both output forms.
	step(env, 0, false, "apply", "saved.plan")
	edit(`invoice "pii-legal" {`, `invoice "pii-plain" {
  title              = "Canary plain"
  currency           = "EUR"
  amount             = "11.00"
  timer              = false
  end_user_reference = "customer-3"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "pii-canary@example.com"
}

invoice "pii-legal" {`)
	step(env, 0, false, "apply", "-auto-approve", "-json")
	edit(`"pii-plain" {`, `"pii-plain-2" {`)
	step(env, 0, false, "apply", "-auto-approve")
	step(env, 0, false, "apply", "-auto-approve") // nothing to do

	// The state commands.
	step(env, 0, false, "state", "list")
	step(env, 0, false, "state", "list", "-json")
	step(env, 0, false, "state", "show", "pii-natural")
	step(env, 0, false, "state", "show", "-json", "pii-natural")
	step(env, 0, true, "state", "show", "-show-sensitive", "pii-natural")
	step(env, 0, true, "state", "show", "-json", "-show-sensitive", "pii-legal")
	step(env, 0, false, "show")
	export := step(env, 0, true, "state", "export")
	write(t, filepath.Join(dir, "backup.json"), []byte(export.stdout))
	step(env, 0, false, "state", "import", "-state=imported.state", "backup.json")
	step(env, 0, false, "state", "list", "-state=imported.state")

	// A conflict names the personal field that changed, never its values.
	edit(`"pii-canary@example.com"`, `"pii-canary-changed@example.com"`)
	if r := step(env, 1, false, "plan"); !strings.Contains(r.out, "email_user changed") {
		t.Errorf("the conflict does not name email_user:\n%s", r.out)
	}
	step(env, 1, false, "plan", "-json")
	step(env, 1, false, "plan", "-markdown")
	step(env, 1, false, "apply", "-auto-approve")
	edit(`"pii-canary-changed@example.com"`, `"pii-canary@example.com"`)

	// Cancel one, forget another.
	edit(`  email_user         = "pii-canary-2@example.org"`, `  email_user         = "pii-canary-2@example.org"
  cancel             = true`)
	step(env, 0, false, "apply", "-auto-approve")
	step(env, 0, false, "state", "rm", "pii-plain")
	edit(`"pii-plain-2" {`, `"pii-plain-3" {`)
	step(env, 0, true, "apply", "-auto-approve", "-show-sensitive")

	// The in-process emulator, with its own throwaway credentials.
	step(nil, 0, false, "apply", "-emulator", "-auto-approve")
	step(nil, 0, false, "apply", "-emulator", "-auto-approve", "-json")

	// The emulator's own output, once it has stopped.
	if err := emu.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	rest, _ := bufio.NewReader(banner).ReadString(0)
	done := make(chan error, 1)
	go func() { done <- emu.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("emulator did not stop")
	}
	outputs = append(outputs, output{"invoiceform emulator (stdout)", bannerText.String() + rest, false},
		output{"invoiceform emulator (log)", emuLog.String(), false})
	// The log has a line per request and per created invoice, naming the key; never a
	// signature (128 hex digits) or a body.
	for _, want := range []string{`msg=request method=POST path=/api/v2/invoices/create status=200 key=` + canaryKey,
		`path=/api/v2/accounts/list status=403 key=` + canaryKey, `msg="invoice created" key=` + canaryKey + ` foreign_id=pii-natural`} {
		if !strings.Contains(emuLog.String(), want) {
			t.Errorf("the emulator log has no %q:\n%s", want, emuLog.String())
		}
	}
	if sig := regexp.MustCompile(`[0-9a-fA-F]{128}`).FindString(emuLog.String()); sig != "" {
		t.Errorf("the emulator log holds a signature: %s", sig)
	}

	// The files.
	files := map[string]bool{"invoiceform.state": true, "saved.plan": false, "imported.state": true}
	for name, sensitive := range files {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, st.Mode().Perm())
		}
		outputs = append(outputs, output{name, string(read(t, filepath.Join(dir, name))), sensitive})
	}
	if string(planFile) != string(read(t, filepath.Join(dir, "saved.plan"))) {
		t.Error("applying the saved plan changed it")
	}
	// Every file the commands left in the directory is one of those, or the two this test wrote.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if n := e.Name(); !hasKey(files, n) && n != "main.hcl" && n != "backup.json" {
			t.Errorf("unexpected file %s", n)
		}
	}

	for _, o := range outputs {
		for _, form := range append(secretForms(canarySecret), secretForms(wrongSecret)...) {
			if strings.Contains(o.text, form) {
				t.Errorf("%s: holds the secret (as %q)", o.name, form)
			}
		}
		var found []string
		for _, pii := range canaryPII {
			escaped, _ := json.Marshal(pii) // as a JSON string would hold it, \u escapes and all
			for _, form := range []string{pii, base64.StdEncoding.EncodeToString([]byte(pii)), strings.Trim(string(escaped), `"`), hex.EncodeToString([]byte(pii))} {
				if strings.Contains(o.text, form) {
					found = append(found, form)
				}
			}
		}
		switch {
		case !o.sensitive && len(found) > 0:
			t.Errorf("%s: shows personal data %q without -show-sensitive:\n%.2000s", o.name, found, o.text)
		case o.sensitive && len(found) == 0:
			t.Errorf("%s: should show personal data, and shows none:\n%.2000s", o.name, o.text)
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("%d outputs and files scanned", len(outputs))
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}
