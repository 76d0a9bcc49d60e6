//go:build unix

package pgtest

// The throwaway cluster: when no server answers, the tests of a run share one PostgreSQL
// cluster of their own, made with initdb and started with pg_ctl in a directory under
// os.TempDir() keyed by the user and the module (sharedBase). Test processes run in parallel
// (go test runs each package in a process of its own), so three lock files (flock) coordinate
// them:
//
//   - setup.lock, exclusive: held while a process checks, creates or starts the cluster, and
//     while the reaper stops it: one at a time.
//   - users.lock, shared: held by every test process that uses the cluster, from its first
//     ConnString to its exit (the kernel releases it then, however the process ends).
//   - reaper.lock, exclusive: held by the reaper, a detached copy of the test binary that the
//     process which started the cluster starts (see init). It waits for users.lock to be
//     free, then, holding setup.lock so that no one starts to use the cluster meanwhile,
//     stops the server (an immediate shutdown: the cluster is thrown away) and removes its
//     data directory, and exits. The cluster thus lives exactly as long as its users.
//
// initdb and postgres refuse to run as root: as root, the cluster is run by the user
// postgres (or nobody, without one), which owns its data directory.

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	osexec "os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// modulePath keys the shared directory: other projects' throwaway clusters are not ours.
const modulePath = "github.com/invoiceform/invoiceform"

// reaperEnv, set to a cluster's directory, makes a test binary the reaper of that cluster.
const reaperEnv = "INVOICEFORM_PGTEST_REAPER"

// reaperStartEnv, set to the binaries' directory, makes the reaper start the cluster first.
const reaperStartEnv = "INVOICEFORM_PGTEST_REAPER_START"

func init() {
	if base := os.Getenv(reaperEnv); base != "" {
		os.Exit(reap(base))
	}
}

// sharedBase is the directory of the run's cluster: one per user and module.
func sharedBase() string {
	sum := sha256.Sum256([]byte(modulePath))
	return filepath.Join(os.TempDir(), fmt.Sprintf("invoiceform-pgtest-%d-%x", os.Geteuid(), sum[:4]))
}

// binGlob finds the binaries of Debian's and Ubuntu's packages.
const binGlob = "/usr/lib/postgresql/*/bin"

// findBinDir returns the directory with initdb, pg_ctl and postgres: that of pg_config
// --bindir, else the newest of binGlob, else that of initdb on PATH.
func findBinDir(lookPath func(string) (string, error), glob string) (string, error) {
	var dirs []string
	if pgConfig, err := lookPath("pg_config"); err == nil {
		if out, err := osexec.Command(pgConfig, "--bindir").Output(); err == nil {
			dirs = append(dirs, strings.TrimSpace(string(out)))
		}
	}
	globbed, _ := filepath.Glob(glob)
	slices.SortFunc(globbed, func(a, b string) int { return versionOf(b) - versionOf(a) })
	dirs = append(dirs, globbed...)
	if initdb, err := lookPath("initdb"); err == nil {
		if resolved, err := filepath.EvalSymlinks(initdb); err == nil {
			dirs = append(dirs, filepath.Dir(resolved))
		}
		dirs = append(dirs, filepath.Dir(initdb))
	}
	for _, dir := range dirs {
		if hasBinaries(dir) {
			return dir, nil
		}
	}
	return "", errNoBinaries
}

var errNoBinaries = errors.New("no PostgreSQL binaries to start a throwaway cluster with (looked for initdb, pg_ctl and postgres in pg_config --bindir, " + binGlob + " and PATH)")

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func hasBinaries(dir string) bool {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return dir != ""
}

// proc is this process's use of the shared cluster: acquired once, held until the process
// exits (users is never closed).
var proc struct {
	once  sync.Once
	cs    string
	err   error
	users *os.File
}

// isThrowaway: cs is that of the run's throwaway cluster (which runs on the port of the
// default server when it was free): its users must say so (throwaway), or it could be
// stopped under them.
func isThrowaway(cs string) bool {
	b, err := os.ReadFile(filepath.Join(sharedBase(), "connstr"))
	return err == nil && strings.TrimSpace(string(b)) == cs
}

// throwaway returns the connection string of the run's throwaway cluster, starting it if no
// other test process has; errNoBinaries (wrapped) when PostgreSQL is not installed.
func throwaway() (string, error) {
	proc.once.Do(func() {
		bin, err := findBinDir(osexec.LookPath, binGlob)
		if err != nil {
			proc.err = err
			return
		}
		proc.cs, proc.users, proc.err = acquire(sharedBase(), bin)
	})
	return proc.cs, proc.err
}

// acquire makes the caller a user of the cluster of base (started with the binaries of bin
// when it is not running) and returns its connection string and the users.lock file the
// caller holds while it uses the cluster.
func acquire(base, bin string) (cs string, users *os.File, err error) {
	c, err := newCluster(base, bin)
	if err != nil {
		return "", nil, err
	}
	setup, err := lockFile(filepath.Join(base, "setup.lock"), syscall.LOCK_EX, 2*time.Minute)
	if err != nil {
		return "", nil, err
	}
	defer setup.Close() // releases the lock
	users, err = lockFile(filepath.Join(base, "users.lock"), syscall.LOCK_SH, time.Minute)
	if err != nil {
		return "", nil, err
	}
	cs, err = c.running()
	if err != nil {
		c.stop() // whatever is left of an earlier cluster
		var spawned bool
		// The reaper starts the cluster, so that the server is its child once pg_ctl has
		// left, and it collects the server's exit; unless a reaper is already there.
		cs, spawned, err = c.spawnReaper(true)
		if err == nil && !spawned {
			cs, err = c.start()
		}
		if err != nil {
			c.stop()
		}
	} else {
		_, _, err = c.spawnReaper(false)
	}
	if err != nil {
		users.Close()
		return "", nil, err
	}
	return cs, users, nil
}

type cluster struct {
	base, bin string
	cred      *syscall.Credential // the server's user, when it is not ours (we are root)
	owner     string              // its name, for messages
}

func newCluster(base, bin string) (*cluster, error) {
	c := &cluster{base: base, bin: bin}
	mode := os.FileMode(0o700)
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		var u *user.User
		var err error
		for _, name := range []string{"postgres", "nobody"} {
			if u, err = user.Lookup(name); err == nil {
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("running as root, and no user postgres or nobody to run the throwaway cluster: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
		c.owner = u.Username
		mode = 0o711 // the server's user reaches its data directory; the rest stays ours
	}
	if err := os.Mkdir(base, mode); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	fi, err := os.Lstat(base)
	if err != nil {
		return nil, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || int(st.Uid) != os.Geteuid() {
		return nil, fmt.Errorf("%s is not a directory of ours: not using it", base)
	}
	if err := os.Chmod(base, mode); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *cluster) data() string     { return filepath.Join(c.base, "data") }
func (c *cluster) connFile() string { return filepath.Join(c.base, "connstr") }
func (c *cluster) logFile() string  { return filepath.Join(c.data(), "postgres.log") }

// running returns the connection string of the cluster when it answers.
func (c *cluster) running() (string, error) {
	b, err := os.ReadFile(c.connFile())
	if err != nil {
		return "", err
	}
	cs := strings.TrimSpace(string(b))
	return cs, ping(cs)
}

// command runs a PostgreSQL program as the server's user.
func (c *cluster) command(name string, args ...string) *osexec.Cmd {
	cmd := osexec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.base
	for _, kv := range os.Environ() {
		// Neither the reaper's variable nor the libpq and server variables of the caller.
		if !strings.HasPrefix(kv, "INVOICEFORM_PGTEST_REAPER") && !strings.HasPrefix(kv, "PG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd
}

func (c *cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	return os.Chown(path, int(c.cred.Uid), int(c.cred.Gid))
}

// start creates the cluster (initdb), starts it (pg_ctl) on a free port of 127.0.0.1,
// creates the database test and records the connection string in connstr.
func (c *cluster) start() (string, error) {
	_ = os.Remove(c.connFile())
	if err := os.RemoveAll(c.data()); err != nil {
		return "", err
	}
	if err := os.Mkdir(c.data(), 0o700); err != nil {
		return "", err
	}
	if err := c.chown(c.data()); err != nil {
		return "", err
	}
	// Every role is trusted on 127.0.0.1, as on the CI server, but root, the tests' role, is
	// no superuser (no COPY ... PROGRAM for anyone who connects): the superuser needs a
	// password, which is forgotten once root and the database test are made.
	var b [16]byte
	_, _ = rand.Read(b[:])
	password := hex.EncodeToString(b[:])
	pwFile := filepath.Join(c.base, "pwfile")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		return "", err
	}
	defer os.Remove(pwFile)
	if err := c.chown(pwFile); err != nil {
		return "", err
	}
	initdb := c.command("initdb", "-D", c.data(), "-U", adminRole, "--pwfile="+pwFile, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s: %v\n%s", initdb, err, out)
	}
	hba := "# invoiceform's throwaway test cluster (state/pgstate/pgtest)\n" +
		"host all " + adminRole + " 127.0.0.1/32 scram-sha-256\n" +
		"host all all 127.0.0.1/32 trust\n"
	if err := os.WriteFile(filepath.Join(c.data(), "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		return "", err
	}
	conf, err := os.OpenFile(filepath.Join(c.data(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return "", err
	}
	_, err = conf.WriteString("\n# invoiceform's throwaway test cluster (state/pgstate/pgtest): thrown away after the run\n" +
		"listen_addresses = '127.0.0.1'\n" +
		"unix_socket_directories = ''\n" +
		"max_connections = 200\n" +
		"fsync = off\n" +
		"full_page_writes = off\n" +
		"cluster_name = 'invoiceform-pgtest'\n")
	if cerr := conf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	// The port of the default server when it is free (the tests may assume that they run
	// on 127.0.0.1:5432), else any free one. A free port can be taken by someone else
	// before the server binds it: then another.
	for attempt := 0; ; attempt++ {
		port, err := freePort(c.base == sharedBase() && attempt == 0)
		if err != nil {
			return "", err
		}
		pgctl := c.command("pg_ctl", "start", "-w", "-t", "60", "-D", c.data(), "-l", c.logFile(), "-o", "-p "+strconv.Itoa(port))
		out, err := pgctl.CombinedOutput()
		if err != nil {
			if attempt < 2 {
				continue
			}
			return "", fmt.Errorf("%s: %v\n%s\n%s", pgctl, err, out, tail(c.logFile()))
		}
		admin := fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/postgres?sslmode=disable", adminRole, password, port)
		for _, sql := range []string{
			// What the tests do: create roles, see and end each other's sessions.
			"CREATE ROLE root LOGIN CREATEROLE CREATEDB",
			"GRANT pg_read_all_stats, pg_signal_backend TO root",
			"CREATE DATABASE test OWNER root",
		} {
			if err := execSQL(admin, sql); err != nil {
				return "", fmt.Errorf("%s: %w", sql, err)
			}
		}
		cs := fmt.Sprintf("postgres://root@127.0.0.1:%d/test?sslmode=disable", port)
		tmp := c.connFile() + ".tmp"
		if err := os.WriteFile(tmp, []byte(cs+"\n"), 0o600); err != nil {
			return "", err
		}
		return cs, os.Rename(tmp, c.connFile())
	}
}

// adminRole is the throwaway cluster's superuser.
const adminRole = "invoiceform_pgtest_admin"

func freePort(defaultPort bool) (int, error) {
	if defaultPort {
		if ln, err := net.Listen("tcp", "127.0.0.1:5432"); err == nil {
			ln.Close()
			return 5432, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func execSQL(cs, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, cs)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// tail returns the end of a log file, for an error message.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return path + ":\n" + string(b)
}

// spawnReaper starts the reaper unless one holds reaper.lock (spawned false then). The lock
// is taken here and handed to the reaper (the same open file), so that no second reaper can
// start meanwhile. With start, the reaper starts the cluster first and reports its
// connection string.
func (c *cluster) spawnReaper(start bool) (cs string, spawned bool, err error) {
	lock, err := os.OpenFile(filepath.Join(c.base, "reaper.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", false, err
	}
	defer lock.Close() // the reaper's copy keeps the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return "", false, nil // a reaper is watching
		}
		return "", false, err
	}
	exe, err := os.Executable()
	if err != nil {
		return "", false, err
	}
	log, err := os.OpenFile(filepath.Join(c.base, "reaper.log"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", false, err
	}
	defer log.Close()
	cmd := osexec.Command(exe)
	cmd.Dir = c.base
	cmd.Env = append(os.Environ(), reaperEnv+"="+c.base)
	if start {
		cmd.Env = append(cmd.Env, reaperStartEnv+"="+c.bin)
	}
	// Not the test's output (go test would wait for it), and a session of its own: an
	// interrupt of the test run ends the tests, then the reaper stops the cluster.
	var report *os.File
	cmd.Stdout, cmd.Stderr = log, log
	if start {
		r, w, err := os.Pipe()
		if err != nil {
			return "", false, err
		}
		defer r.Close()
		cmd.Stdout, report = w, r
	}
	cmd.ExtraFiles = []*os.File{lock} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	if f, ok := cmd.Stdout.(*os.File); ok && f != log {
		f.Close()
	}
	if err != nil {
		return "", false, fmt.Errorf("starting the reaper of the throwaway cluster: %w", err)
	}
	if err := cmd.Process.Release(); err != nil {
		return "", true, err
	}
	if !start {
		return "", true, nil
	}
	out, err := io.ReadAll(report) // until the reaper closes its stdout
	if err != nil {
		return "", true, err
	}
	cs, ok := strings.CutPrefix(string(out), "ok ")
	if !ok {
		return "", true, fmt.Errorf("starting the cluster: %s (%s)", out, filepath.Join(c.base, "reaper.log"))
	}
	return strings.TrimSpace(cs), true, nil
}

// reap is the reaper's main: it stops the cluster of base when no test process uses it.
func reap(base string) int {
	lock := os.NewFile(3, "reaper.lock") // held since spawnReaper
	if bin := os.Getenv(reaperStartEnv); bin != "" {
		// The server is to be this process's child once pg_ctl has left it (on Linux).
		setSubreaper()
		c, err := newCluster(base, bin)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		cs, err := c.start()
		if err != nil {
			fmt.Println(err)
			c.stop()
			return 1
		}
		fmt.Println("ok " + cs)
		os.Stdout.Close()
	}
	users, err := os.OpenFile(filepath.Join(base, "users.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reaper:", err)
		return 1
	}
	for {
		// Wait until no one uses the cluster; then, holding setup.lock (taken first, as
		// acquire does), check that no one has started to meanwhile.
		if err := flock(users, syscall.LOCK_EX); err != nil {
			fmt.Fprintln(os.Stderr, "reaper:", err)
			return 1
		}
		_ = flock(users, syscall.LOCK_UN)
		setup, err := lockFile(filepath.Join(base, "setup.lock"), syscall.LOCK_EX, time.Hour)
		if err != nil {
			fmt.Fprintln(os.Stderr, "reaper:", err)
			return 1
		}
		if syscall.Flock(int(users.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			c := &cluster{base: base}
			c.stop()
			fmt.Fprintln(os.Stderr, "reaper: no users left: cluster stopped and removed")
			lock.Close() // before setup.lock: whoever takes it next starts a new reaper
			setup.Close()
			return 0
		}
		setup.Close()
	}
}

// stop ends the cluster's server, if it runs, with an immediate shutdown (nothing in it is
// kept), and removes its data directory and connection string.
func (c *cluster) stop() {
	_ = os.Remove(c.connFile())
	if pid := postmasterPID(c.data()); pid > 0 && isPostgres(pid) {
		_ = syscall.Kill(pid, syscall.SIGQUIT)
		if !waitGone(pid, 10*time.Second) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			waitGone(pid, 5*time.Second)
		}
	}
	_ = os.RemoveAll(c.data())
}

func postmasterPID(data string) int {
	f, err := os.Open(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	if !s.Scan() {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(s.Text()))
	return pid
}

// isPostgres: pid is a live postgres process (not a recycled pid of something else).
func isPostgres(pid int) bool {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		// No /proc (not Linux): trust the pid file.
		return syscall.Kill(pid, 0) == nil
	}
	return strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres")
}

func waitGone(pid int, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		// When it is our child (the reaper's server), collect it: no zombie is left.
		_, _ = syscall.Wait4(pid, nil, syscall.WNOHANG, nil)
		if !alive(pid) {
			return true
		}
	}
	return false
}

// alive: pid runs (a zombie, waiting for its parent, does not).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false
		}
		return syscall.Kill(pid, 0) == nil
	}
	// pid (comm) state ...: comm may hold spaces and parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// lockFile opens (creating) path and flocks it, trying until timeout.
func lockFile(path string, how int, timeout time.Duration) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(timeout); ; time.Sleep(20 * time.Millisecond) {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
	}
}

// flock waits for the lock.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
