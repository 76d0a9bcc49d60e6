package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/invoiceform/invoiceform/emulator"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state/pgstate/pgtest"
)

// TestMain lets testscript run this test binary as the real invoiceform command, in its own
// process, for every `exec invoiceform` of the scripts.
func TestMain(m *testing.M) {
	if os.Getenv("INVOICEFORM_TEST_RUN_MAIN") == "1" {
		// Re-executed by a test that needs the command as a long-running process.
		main()
		os.Exit(0)
	}
	testscript.Main(m, map[string]func(){"invoiceform": main})
}

// gbpKey and gbpSecret are the script emulator's second merchant, whose account holds BTC,
// EUR, GBP and JPY only.
const (
	gbpKey    = "gbp-shop-key"
	gbpSecret = "gbp-shop-secret"
)

// TestScripts runs the end-to-end scripts of testdata/script: each is a txtar file with the
// commands, their input files and the expected output. The examples directory is copied into
// each script's work directory as examples/.
// emulators maps a script's work directory to its emulator.
var emulators sync.Map

func TestScripts(t *testing.T) {
	testscript.Run(t, scriptParams("testdata/script", nil))
}

// TestPipelineScripts runs the scripts of testdata/pipeline: the commands of the CI
// pipelines in examples/, against the script's emulator and the real PostgreSQL server
// ($PG_CONN_STR), in a workspace of the script's own ($PG_WORKSPACE), deleted afterwards.
func TestPipelineScripts(t *testing.T) {
	cs := pgtest.ConnString(t)
	testscript.Run(t, scriptParams("testdata/pipeline", func(env *testscript.Env) error {
		env.Setenv("PG_CONN_STR", cs)
		ws := pgtest.Name("pipeline")
		env.Setenv("PG_WORKSPACE", ws)
		env.Defer(func() {
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, cs)
			if err != nil {
				env.T().Log("cleanup: ", err)
				return
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, "DELETE FROM invoiceform.states WHERE workspace = $1", ws); err != nil {
				env.T().Log("cleanup: ", err)
			}
		})
		return nil
	}))
}

func scriptParams(dir string, setup func(*testscript.Env) error) testscript.Params {
	return testscript.Params{
		Dir: dir,
		Setup: func(env *testscript.Env) error {
			if setup != nil {
				if err := setup(env); err != nil {
					return err
				}
			}
			env.Setenv("NO_COLOR", "")
			// Every script has an emulator of its own, on a real loopback port: $EMULATOR is
			// its API URL; emucheck reads its invoices.
			// A second merchant's account holds other currencies: $EMULATOR_GBP_KEY.
			srv, err := emulator.New(emulator.Options{Merchants: []emulator.Merchant{
				{Key: emulator.DefaultKey, Secret: emulator.DefaultSecret},
				{Key: gbpKey, Secret: gbpSecret, Currencies: []string{"BTC", "EUR", "GBP", "JPY"}},
			}})
			if err != nil {
				return err
			}
			base, err := srv.Start("127.0.0.1:0")
			if err != nil {
				return err
			}
			env.Defer(func() { _ = srv.Close() })
			env.Setenv("EMULATOR", base)
			env.Setenv("EMULATOR_KEY", emulator.DefaultKey)
			env.Setenv("EMULATOR_SECRET", emulator.DefaultSecret)
			env.Setenv("EMULATOR_GBP_KEY", gbpKey)
			env.Setenv("EMULATOR_GBP_SECRET", gbpSecret)
			emulators.Store(env.WorkDir, srv)
			return os.CopyFS(filepath.Join(env.WorkDir, "examples"), os.DirFS("../../examples"))
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// emucheck N [STATUS FOREIGN_ID]...: the script's emulator holds exactly N invoices,
			// each created once, with the given statuses.
			"emucheck": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 1 || len(args)%2 != 1 {
					ts.Fatalf("usage: emucheck N [STATUS FOREIGN_ID]...")
				}
				v, _ := emulators.Load(ts.Getenv("WORK"))
				srv := v.(*emulator.Server)
				invs := srv.Invoices()
				if fmt.Sprint(len(invs)) != args[0] {
					ts.Fatalf("emulator has %d invoices, want %s", len(invs), args[0])
				}
				for _, inv := range invs {
					if inv.Creates != 1 {
						ts.Fatalf("%s created %d times", inv.ForeignID, inv.Creates)
					}
				}
				for i := 1; i < len(args); i += 2 {
					inv, ok := srv.Lookup(emulator.DefaultKey, args[i+1])
					if !ok || inv.Status != args[i] {
						ts.Fatalf("%s: status %q (found %v), want %s", args[i+1], inv.Status, ok, args[i])
					}
				}
			},
			// emuamount FOREIGN_ID CURRENCY AMOUNT: the emulator's invoice has this currency and
			// amount (compared as exact decimals).
			"emuamount": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 3 {
					ts.Fatalf("usage: emuamount FOREIGN_ID CURRENCY AMOUNT")
				}
				v, _ := emulators.Load(ts.Getenv("WORK"))
				inv, ok := v.(*emulator.Server).Lookup(emulator.DefaultKey, args[0])
				want, err := invoice.ParseAmount(args[2])
				ts.Check(err)
				got, err := invoice.ParseAmount(inv.Amount)
				if !ok || err != nil || inv.Currency != args[1] || got.Cmp(want) != 0 {
					ts.Fatalf("%s: %s %s (found %v), want %s %s", args[0], inv.Currency, inv.Amount, ok, args[1], args[2])
				}
			},
			// planedit FILE FOREIGN_ID AMOUNT [keephash]: edits a saved plan as an attacker with
			// the source code would (see resignPlan): the change's amount is set, and its body
			// hash set to that of a forged body unless keephash.
			"planedit": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 3 || len(args) > 4 {
					ts.Fatalf("usage: planedit FILE FOREIGN_ID AMOUNT [keephash]")
				}
				path := ts.MkAbs(args[0])
				data, err := os.ReadFile(path)
				ts.Check(err)
				out, err := resignPlan(data, args[1], args[2], len(args) == 4 && args[3] == "keephash")
				ts.Check(err)
				ts.Check(os.WriteFile(path, out, 0o600))
			},
			// cachepoison DIR OLD NEW rewrites every entry of the evaluation cache in DIR as
			// whoever can write the directory could: OLD replaced by NEW (of the same length)
			// and the checksum made right again (the frame of config/cache.go: a CRC-32C of
			// everything before it, in its last 4 bytes). Fails when no entry holds OLD.
			"cachepoison": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 3 || len(args[1]) != len(args[2]) {
					ts.Fatalf("usage: cachepoison DIR OLD NEW (OLD and NEW of one length)")
				}
				entries, err := filepath.Glob(filepath.Join(ts.MkAbs(args[0]), "v1", "*.entry"))
				ts.Check(err)
				poisoned := 0
				for _, e := range entries {
					data, err := os.ReadFile(e)
					ts.Check(err)
					if !bytes.Contains(data, []byte(args[1])) {
						continue
					}
					data = bytes.ReplaceAll(data, []byte(args[1]), []byte(args[2]))
					binary.LittleEndian.PutUint32(data[len(data)-4:], crc32.Checksum(data[:len(data)-4], crc32.MakeTable(crc32.Castagnoli)))
					ts.Check(os.WriteFile(e, data, 0o600))
					poisoned++
				}
				if poisoned == 0 {
					ts.Fatalf("no entry of %d holds %q", len(entries), args[1])
				}
			},
			// exitcode N PROG ARGS... runs PROG and requires exit code N exactly.
			"exitcode": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exitcode N PROG [ARGS...]")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("exitcode: %v", err)
				}
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					got = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("exitcode: %v", err)
				}
				if got != want {
					ts.Fatalf("exit code %d, want %d", got, want)
				}
			},
		},
	}
}

// resignPlan edits a saved plan as an attacker with the source code and the file would: it
// reads the file with invoiceform's own reader, sets the amount of the change of foreignID
// (and, unless keepHash, its body hash to the hash of a body the attacker made up), and
// writes it with invoiceform's own writer, so that the checksum and the plan hash are right
// again. Nothing in the file can tell the edit apart from a plan.
func resignPlan(data []byte, foreignID, amount string, keepHash bool) ([]byte, error) {
	p, created, err := plan.Decode(data)
	if err != nil {
		return nil, err
	}
	a, err := invoice.ParseAmount(amount)
	if err != nil {
		return nil, err
	}
	for _, c := range p.Changes {
		if c.ForeignID != foreignID || c.After == nil {
			continue
		}
		c.After.Amount = a
		if !keepHash {
			c.After.BodyHash = invoice.Hash([]byte(`{"amount":` + amount + `,"url_success":"https://evil.example.net/"}`))
		}
		out, err := plan.Encode(p, created)
		if err != nil {
			return nil, err
		}
		if _, _, err := plan.Decode(out); err != nil {
			return nil, fmt.Errorf("the re-signed plan does not read back: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("the plan has no declared change %s", foreignID)
}
