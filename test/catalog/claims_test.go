package catalog

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
	"github.com/bundlesh/bundle/pkg/repo"
)

// claimScripts renders the claim stable/PROVIDER (installed as release
// team-db) gives consumer release app of an app that requires it, and
// returns its scripts (claim.sh, unclaim.sh) and the claim's database and
// user name.
func claimScripts(t *testing.T, provider, app string) (map[string]string, string) {
	t.Helper()
	return claimScriptsOf(t, provider, app, "[host, database, username, passwordSecret]", "database")
}

// claimScriptsOf is claimScripts for an app that needs outputs of its
// provider and checks that it gets the claim's id as output want (with
// the ":" of a key prefix).
func claimScriptsOf(t *testing.T, provider, app, outputs, want string) (map[string]string, string) {
	t.Helper()
	objs := claimObjects(t, provider, app, outputs, want)
	cm := objs["ConfigMap/"+app+"-database-claim"]
	return map[string]string{"claim.sh": dig(cm, "data", "claim.sh").(string), "unclaim.sh": dig(cm, "data", "unclaim.sh").(string)}, render.ClaimID("data", app, "database")
}

// claimObjects renders the claim as claimScriptsOf does and returns the
// objects of the app's release (hooks included) by KIND/NAME.
func claimObjects(t *testing.T, provider, app, outputs, want string) map[string]map[string]any {
	t.Helper()
	ctx := context.Background()
	set := repo.NewSet(nil)
	pp, err := plan.Make(ctx, set, plan.Source{Reference: "stable/" + provider})
	if err != nil {
		t.Fatal(err)
	}
	prel := render.ReleaseOptions{Name: "team-db", Namespace: "data"}
	pvals, err := render.Values(pp, nil, prel)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := render.Outputs(pp, pvals, prel)
	if err != nil {
		t.Fatal(err)
	}
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: app\nversion: 1.0.0\n",
		"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  database: {bundle: " + provider + ", version: ^1.0.0, outputs: " + outputs + "}\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}-app'}\ndata:\n" +
			"  database: {{ .Values.requires.database." + want + " | trimSuffix \":\" | quote }}\n",
	})
	in, err := plan.Read(ctx, set, plan.Source{Reference: dir})
	if err != nil {
		t.Fatal(err)
	}
	in.Bound = []*plan.Binding{{Bind: plan.Bind{Instance: "database", Namespace: "data", Release: "team-db"}, Provider: pp.Root.Bundle, Outputs: outs, Claim: true}}
	p, err := in.Resolve(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := render.Template(ctx, p, render.TemplateOptions{ReleaseName: app, Namespace: "data"})
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]map[string]any{}
	for _, doc := range strings.Split(manifest, "\n---") {
		var o map[string]any
		if yaml.Unmarshal([]byte(doc), &o) == nil && o != nil {
			objs[fmt.Sprintf("%s/%s", o["kind"], dig(o, "metadata", "name"))] = o
		}
	}
	cm := objs["ConfigMap/"+app+"-database-claim"]
	if cm == nil {
		t.Fatalf("%s: no claim ConfigMap in:\n%s", provider, manifest)
	}
	id := render.ClaimID("data", app, "database")
	if got := dig(objs["ConfigMap/"+app+"-app"], "data", "database"); got != id {
		t.Fatalf("%s: the app's database is %v, want its claim's %s", provider, got, id)
	}
	return objs
}

// uninstallEnv is the environment the pre-delete hook Job of app's claim
// on stable/provider gets in an uninstall, deleteData its --delete-data,
// with the claim's ConfigMap (in the cluster) saying what cmSays under
// delete-data: bundle sets the hook's DELETE_DATA as the uninstall creates
// it (render.SetDeleteData), and Kubernetes resolves what remains
// references.
func uninstallEnv(t *testing.T, provider, app string, deleteData bool, cmSays string) string {
	t.Helper()
	objs := claimObjects(t, provider, app, "[host, database, username, passwordSecret]", "database")
	job := objs["Job/"+app+"-database-unclaim"]
	if job == nil {
		t.Fatalf("%s: no unclaim hook", provider)
	}
	if !render.SetDeleteData(job, deleteData) {
		t.Fatalf("%s: the unclaim hook reads no %s", provider, render.DeleteDataEnv)
	}
	for _, c := range dig(job, "spec", "template", "spec", "containers").([]any) {
		for _, e := range c.(map[string]any)["env"].([]any) {
			e := e.(map[string]any)
			if e["name"] != render.DeleteDataEnv {
				continue
			}
			if v, ok := e["value"].(string); ok {
				return v
			}
			if dig(e, "valueFrom", "configMapKeyRef", "key") == "delete-data" {
				return cmSays
			}
			t.Fatalf("%s: %s is %v", provider, render.DeleteDataEnv, e)
		}
	}
	t.Fatalf("%s: no %s", provider, render.DeleteDataEnv)
	return ""
}

// The claim scripts of every provider pass shellcheck.
func TestClaimScriptsPassShellcheck(t *testing.T) {
	sc := tool(t, "shellcheck")
	for _, provider := range []string{"mariadb", "mysql", "postgresql", "redis"} {
		var s map[string]string
		if provider == "redis" {
			s, _ = claimScriptsOf(t, provider, "blog", redisClaimOutputs, "keyPrefix")
		} else {
			s, _ = claimScripts(t, provider, "blog")
		}
		for name, script := range s {
			cmd := exec.Command(sc, "--shell=sh", "--severity=info", "-")
			cmd.Stdin = strings.NewReader(script)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Errorf("%s %s: shellcheck: %v\n%s\n--- script:\n%s", provider, name, err, out.String(), script)
			}
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// server is a database server of a test, run as its own system user.
type server struct {
	t        *testing.T
	uid, gid string
	dir      string
	port     string
	bin      string // PATH first
	netns    string // the network namespace it runs in; the host's when ""
}

// as runs a command as the server's user with only env (and PATH, HOME),
// in its network namespace; every step execs the next, so the process is
// the command itself.
func (s *server) as(env map[string]string, args ...string) *exec.Cmd {
	full := []string{"setpriv", "--reuid=" + s.uid, "--regid=" + s.gid, "--init-groups", "env", "-i", "PATH=" + s.bin + ":/usr/bin:/bin:/usr/sbin", "HOME=" + s.dir}
	for k, v := range env {
		full = append(full, k+"="+v)
	}
	if s.netns != "" {
		full = append([]string{"ip", "netns", "exec", s.netns}, full...)
	}
	return exec.Command(full[0], append(full[1:], args...)...)
}

// start starts the server (args), logging to DIR/server.log, stops it
// with the test, and waits until ready says so.
func (s *server) start(ready func() bool, args ...string) {
	t := s.t
	cmd := s.as(nil, args...)
	logFile, err := os.Create(filepath.Join(s.dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logFile.Close()
	})
	if ok, _ := testutil.Poll(60*time.Second, 200*time.Millisecond, func() (bool, string) { return ready(), "" }); !ok {
		b, _ := os.ReadFile(logFile.Name())
		t.Fatalf("%v did not start:\n%s", args, b)
	}
}

func newServer(t *testing.T, osUser, bin string) *server {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (running the server as its own user)")
	}
	u, err := user.Lookup(osUser)
	if err != nil {
		t.Fatalf("no %s user: %v (make test-tools installs its server)", osUser, err)
	}
	dir, err := os.MkdirTemp("", "bundle-claim-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, d := range []string{dir, filepath.Join(dir, "sock")} {
		os.MkdirAll(d, 0o755)
		os.Chown(d, uid, gid)
	}
	return &server{t: t, uid: u.Uid, gid: u.Gid, dir: dir, port: freePort(t), bin: bin}
}

// runScript runs a claim script as the Job does: sh SCRIPT with the Job's
// environment.
func (s *server) runScript(script string, env map[string]string) (string, error) {
	f := filepath.Join(s.dir, fmt.Sprintf("script-%d.sh", time.Now().UnixNano()))
	if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
		s.t.Fatal(err)
	}
	out, err := s.as(env, "sh", f).CombinedOutput()
	return string(out), err
}

// mustRunScript runs a claim script as runScript does, runs times in a
// row (a run after the first must change nothing), and stops the test at a
// failure, which what names.
func (s *server) mustRunScript(what, script string, env map[string]string, runs int) {
	s.t.Helper()
	for i := 1; i <= runs; i++ {
		if out, err := s.runScript(script, env); err != nil {
			if runs > 1 {
				what = fmt.Sprintf("%s (run %d)", what, i)
			}
			s.t.Fatalf("%s: %v\n%s", what, err, out)
		}
	}
}

func claimEnv(port, admin, id, password string) map[string]string {
	return map[string]string{"DB_HOST": "127.0.0.1", "DB_PORT": port, "ADMIN_PASSWORD": admin, "CLAIM_DATABASE": id, "CLAIM_USER": id, "CLAIM_PASSWORD": password}
}

// stable/postgresql's claim in a real PostgreSQL (Debian's 15): two
// consumers each get a role that owns its database and reaches no other
// (not the other's database, not the provider's own app data), running
// the claim again is safe and takes a new password, and dropping a claim
// drops its role, keeping its database and data unless DELETE_DATA, and
// leaves the other claim working.
func TestPostgresClaims(t *testing.T) {
	for _, name := range []string{"setpriv", "psql", pgBin + "initdb", pgBin + "postgres", pgBin + "pg_isready"} {
		tool(t, name)
	}
	const admin = `admin pw 'with' "quotes"`
	s, local := startPostgres(t, admin)
	// The provider's own app role and data, as its first start makes them.
	local("postgres", "CREATE ROLE app LOGIN PASSWORD 'app'")
	local("postgres", "CREATE DATABASE app OWNER app")
	local("app", "CREATE TABLE private (x text); INSERT INTO private VALUES ('provider'); ALTER TABLE private OWNER TO app")

	scripts, idA := claimScripts(t, "postgresql", "blog")
	_, idB := claimScripts(t, "postgresql", "shop")
	as := func(id, pw, db, sql string) (string, error) {
		out, err := s.as(map[string]string{"PGPASSWORD": pw}, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
			fmt.Sprintf("host=127.0.0.1 port=%s user=%s dbname=%s", s.port, id, db), "-tAc", sql).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	for _, c := range []struct{ id, pw string }{{idA, "pw A $x 'q'"}, {idB, "pwB"}} {
		s.mustRunScript("claim.sh "+c.id, scripts["claim.sh"], claimEnv(s.port, admin, c.id, c.pw), 2)
		got, err := as(c.id, c.pw, c.id, "CREATE TABLE t (x text); INSERT INTO t VALUES ('"+c.id+"'); SELECT current_user, current_database(), (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), pg_get_userbyid((SELECT datdba FROM pg_database WHERE datname = current_database()))")
		if want := c.id + "|" + c.id + "|f|" + c.id; err != nil || got != want {
			t.Errorf("%s in its database: %q, %v (want %s)", c.id, got, err, want)
		}
	}
	// Each reaches only its own database.
	for _, tc := range []struct{ id, pw, db string }{{idA, "pw A $x 'q'", idB}, {idB, "pwB", idA}} {
		if got, err := as(tc.id, tc.pw, tc.db, "SELECT 1"); err == nil || !strings.Contains(got, "permission denied for database") {
			t.Errorf("%s connecting to %s: %q, %v (want permission denied)", tc.id, tc.db, got, err)
		}
	}
	if got, err := as(idA, "pw A $x 'q'", "app", "SELECT * FROM private"); err == nil {
		t.Errorf("%s reads the provider's app data: %q", idA, got)
	}
	if got, err := as(idA, "wrong", idA, "SELECT 1"); err == nil || !strings.Contains(got, "password authentication failed") {
		t.Errorf("a wrong password: %q, %v", got, err)
	}
	// Again with a new password: the new one works.
	s.mustRunScript("claim.sh with a new password", scripts["claim.sh"], claimEnv(s.port, admin, idA, "new"), 1)
	if got, err := as(idA, "new", idA, "SELECT x FROM t"); err != nil || got != idA {
		t.Errorf("after a new password: %q, %v", got, err)
	}

	// Dropping A's claim, keeping its data: the role goes, the database
	// and its rows stay (owned by postgres); B is untouched.
	// A plain uninstall after an earlier --delete-data was cut short
	// (bundle before 1.2 had marked the claim's ConfigMap): the data stays.
	un := claimEnv(s.port, admin, idA, "")
	un["DELETE_DATA"] = uninstallEnv(t, "mariadb", "blog", false, "true")
	s.mustRunScript("unclaim.sh", scripts["unclaim.sh"], un, 2)
	if got := local("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = '"+idA+"'"); got != "0" {
		t.Errorf("role %s left: %s", idA, got)
	}
	if got := local(idA, "SELECT x, pg_get_userbyid((SELECT datdba FROM pg_database WHERE datname = current_database())) FROM t"); got != idA+"|postgres" {
		t.Errorf("the kept data of %s: %q", idA, got)
	}
	if got, err := as(idB, "pwB", idB, "SELECT x FROM t"); err != nil || got != idB {
		t.Errorf("the other claim after one is dropped: %q, %v", got, err)
	}
	// Dropping B's with its data.
	un = claimEnv(s.port, admin, idB, "")
	un["DELETE_DATA"] = "true"
	s.mustRunScript("unclaim.sh DELETE_DATA=true", scripts["unclaim.sh"], un, 1)
	if got := local("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = '"+idB+"'") + "|" + local("postgres", "SELECT count(*) FROM pg_database WHERE datname = '"+idB+"'"); got != "0|0" {
		t.Errorf("role|database of %s left: %s", idB, got)
	}
	if got := local("app", "SELECT x FROM private"); got != "provider" {
		t.Errorf("the provider's data: %q", got)
	}
	// A provider that is gone: nothing to drop, and no failure.
	for _, env := range []map[string]string{claimEnv(s.port, "", idA, ""), claimEnv(freePort(t), admin, idA, "")} {
		if out, err := s.runScript(scripts["unclaim.sh"], env); err != nil {
			t.Errorf("unclaim.sh without a provider: %v\n%s", err, out)
		}
	}
}

// stable/mariadb's (and stable/mysql's, the same script) claim in a real
// MariaDB from Debian: as TestPostgresClaims.
func TestMariaDBClaims(t *testing.T) {
	for _, name := range []string{"setpriv", "mariadb", "mariadb-install-db", "mariadbd"} {
		tool(t, name)
	}
	const admin = `admin pw 'with' "quotes"`
	s, local := startMariaDB(t, admin)
	local("CREATE DATABASE app; CREATE TABLE app.private (x text); INSERT INTO app.private VALUES ('provider')")

	scripts, idA := claimScripts(t, "mariadb", "blog")
	_, idB := claimScripts(t, "mariadb", "shop")
	if my, _ := claimScripts(t, "mysql", "blog"); my["claim.sh"] != scripts["claim.sh"] || my["unclaim.sh"] != scripts["unclaim.sh"] {
		t.Error("stable/mysql's claim scripts are not stable/mariadb's")
	}
	as := func(id, pw, sql string) (string, error) {
		out, err := s.as(map[string]string{"MYSQL_PWD": pw}, "mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", s.port, "-u", id, "-N", "-B", "-e", sql).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	pwA, pwB := `pw A $x 'q' \`, "pwB"
	for _, c := range []struct{ id, pw string }{{idA, pwA}, {idB, pwB}} {
		s.mustRunScript("claim.sh "+c.id, scripts["claim.sh"], claimEnv(s.port, admin, c.id, c.pw), 2)
		got, err := as(c.id, c.pw, "CREATE TABLE "+c.id+".t (x text); INSERT INTO "+c.id+".t VALUES ('"+c.id+"'); SELECT x FROM "+c.id+".t; SELECT GROUP_CONCAT(schema_name ORDER BY schema_name) FROM information_schema.schemata")
		dbs := []string{"information_schema", c.id}
		sort.Strings(dbs)
		if want := c.id + "\n" + strings.Join(dbs, ","); err != nil || got != want {
			t.Errorf("%s in its database: %q, %v (want %q)", c.id, got, err, want)
		}
	}
	for _, tc := range []struct{ id, pw, db string }{{idA, pwA, idB}, {idB, pwB, idA}, {idA, pwA, "app"}} {
		if got, err := as(tc.id, tc.pw, "SELECT * FROM "+tc.db+".t UNION SELECT 1"); err == nil || !strings.Contains(got, "denied") {
			t.Errorf("%s reading %s: %q, %v (want denied)", tc.id, tc.db, got, err)
		}
	}
	s.mustRunScript("claim.sh with a new password", scripts["claim.sh"], claimEnv(s.port, admin, idA, "new"), 1)
	if got, err := as(idA, "new", "SELECT x FROM "+idA+".t"); err != nil || got != idA {
		t.Errorf("after a new password: %q, %v", got, err)
	}
	// A plain uninstall after an earlier --delete-data was cut short
	// (bundle before 1.2 had marked the claim's ConfigMap): the data stays.
	un := claimEnv(s.port, admin, idA, "")
	un["DELETE_DATA"] = uninstallEnv(t, "mariadb", "blog", false, "true")
	s.mustRunScript("unclaim.sh", scripts["unclaim.sh"], un, 2)
	if got := local("SELECT COUNT(*) FROM mysql.user WHERE user = '" + idA + "'"); got != "0" {
		t.Errorf("user %s left", idA)
	}
	if got := local("SELECT x FROM " + idA + ".t"); got != idA {
		t.Errorf("the kept data of %s: %q", idA, got)
	}
	if got, err := as(idB, pwB, "SELECT x FROM "+idB+".t"); err != nil || got != idB {
		t.Errorf("the other claim after one is dropped: %q, %v", got, err)
	}
	un = claimEnv(s.port, admin, idB, "")
	un["DELETE_DATA"] = uninstallEnv(t, "mariadb", "shop", true, "false")
	s.mustRunScript("unclaim.sh DELETE_DATA=true", scripts["unclaim.sh"], un, 1)
	if got := local("SELECT COUNT(*) FROM mysql.user WHERE user = '"+idB+"'") + "|" + local("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '"+idB+"'"); got != "0|0" {
		t.Errorf("user|database of %s left: %s", idB, got)
	}
	for _, env := range []map[string]string{claimEnv(s.port, "", idA, ""), claimEnv(freePort(t), admin, idA, "")} {
		if out, err := s.runScript(scripts["unclaim.sh"], env); err != nil {
			t.Errorf("unclaim.sh without a provider: %v\n%s", err, out)
		}
	}
}

// startPostgres starts a PostgreSQL of Debian's as its own user, its
// administrator postgres with password admin over TCP, and returns it and
// a function that runs SQL in a database as postgres (on its socket).
func startPostgres(t *testing.T, admin string) (*server, func(db, sql string) string) {
	t.Helper()
	for _, name := range []string{"setpriv", "psql", pgBin + "initdb", pgBin + "postgres", pgBin + "pg_isready"} {
		tool(t, name)
	}
	s := newServer(t, "postgres", pgBin)
	if out, err := s.as(nil, "initdb", "-D", filepath.Join(s.dir, "data"), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	sock := filepath.Join(s.dir, "sock")
	s.start(func() bool { return s.as(nil, "pg_isready", "-q", "-h", sock, "-p", s.port).Run() == nil },
		"postgres", "-D", filepath.Join(s.dir, "data"), "-k", sock, "-p", s.port, "-c", "listen_addresses=127.0.0.1")
	local := func(db, sql string) string {
		out, err := s.as(nil, "psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", sock, "-p", s.port, "-U", "postgres", "-d", db, "-tAc", sql).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", sql, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	local("postgres", "ALTER ROLE postgres PASSWORD '"+strings.ReplaceAll(admin, "'", "''")+"'")
	return s, local
}

// startMariaDB starts a MariaDB of Debian's as its own user, root with
// password admin over TCP as the image makes it, and returns it and a
// function that runs SQL as root (on its socket).
func startMariaDB(t *testing.T, admin string) (*server, func(sql string) string) {
	t.Helper()
	for _, name := range []string{"setpriv", "mariadb", "mariadb-install-db", "mariadbd"} {
		tool(t, name)
	}
	s := newServer(t, "mysql", "/usr/sbin")
	data := filepath.Join(s.dir, "data")
	sock := filepath.Join(s.dir, "sock", "mysqld.sock")
	if out, err := s.as(nil, "mariadb-install-db", "--no-defaults", "--datadir="+data, "--auth-root-authentication-method=normal", "--skip-test-db").CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	s.start(func() bool {
		return s.as(nil, "mariadb-admin", "--no-defaults", "--socket="+sock, "-u", "root", "ping").Run() == nil
	}, "mariadbd", "--no-defaults", "--datadir="+data, "--socket="+sock, "--port="+s.port, "--bind-address=127.0.0.1", "--skip-name-resolve", "--pid-file="+filepath.Join(s.dir, "pid"))
	local := func(sql string) string {
		out, err := s.as(nil, "mariadb", "--no-defaults", "--socket="+sock, "-u", "root", "-N", "-B", "-e", sql).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", sql, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	q := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace
	// Root over TCP with a password, as the image's entrypoint makes it.
	local("DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1'; CREATE USER 'root'@'%' IDENTIFIED BY '" + q(admin) + "'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION")
	return s, local
}
