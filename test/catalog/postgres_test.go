package catalog

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bundlesh/bundle/internal/testutil"
)

const pgBin = "/usr/lib/postgresql/15/bin/"

// TestPostgresAppRole runs stable/postgresql's first-start script, as
// rendered, against a real PostgreSQL (Debian's 15) started with the
// StatefulSet's own server arguments, in a network namespace of its own so
// that the readiness probe runs verbatim on 127.0.0.1:5432. The app role
// logs in over TCP with its password (one with quotes, a space and a $),
// owns its database, and is not a superuser; a wrong password is refused.
func TestPostgresAppRole(t *testing.T) {
	for _, name := range []string{"ip", "setpriv", "psql", pgBin + "initdb", pgBin + "postgres", pgBin + "pg_isready"} {
		tool(t, name)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespace, running postgres as its own user)")
	}
	pgUser, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("no postgres user: %v (make test-tools installs postgresql-15)", err)
	}
	uid, _ := strconv.Atoi(pgUser.Uid) // for chown
	gid, _ := strconv.Atoi(pgUser.Gid)
	const password = `it's a "test" $HOME`

	objs := renderObjects(t, "stable/postgresql", "db", "default", map[string]any{
		"auth": map[string]any{"database": "orders", "username": "shop", "password": password},
	})
	script := dig(objs["ConfigMap/db-postgresql"], "data", "10-app-role.sh").(string)
	container := dig(podSpec(objs["StatefulSet/db-postgresql"]), "containers", 0)
	serverArgs := strs(dig(container, "args"))
	probe := strs(dig(container, "readinessProbe", "exec", "command"))
	env := values(container)
	env["APP_PASSWORD"] = password // from the Secret, in the pod

	// A directory the postgres user owns, and a network namespace.
	dir, err := os.MkdirTemp("", "bundle-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{dir, filepath.Join(dir, "sock")} {
		os.MkdirAll(d, 0o755)
		os.Chown(d, uid, gid)
		os.Chmod(d, 0o755)
	}
	if err := os.WriteFile(filepath.Join(dir, "10-app-role.sh"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	netns := fmt.Sprintf("bpg%d", os.Getpid()%100000)
	exec.Command("ip", "netns", "del", netns).Run()
	if out, err := exec.Command("ip", "netns", "add", netns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", netns).Run() })
	exec.Command("ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up").Run()

	// asPostgres runs a command in the namespace as the postgres user; every
	// step execs the next, so the process is the command itself.
	asPostgres := func(extraEnv map[string]string, args ...string) *exec.Cmd {
		full := []string{"netns", "exec", netns, "setpriv", "--reuid=" + pgUser.Uid, "--regid=" + pgUser.Gid, "--init-groups", "env", "-i", "PATH=" + pgBin + ":/usr/bin:/bin", "HOME=" + dir}
		for k, v := range extraEnv {
			full = append(full, k+"="+v)
		}
		return exec.Command("ip", append(full, args...)...)
	}
	if out, err := asPostgres(nil, "initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	server := asPostgres(nil, append([]string{"postgres", "-D", filepath.Join(dir, "data"), "-k", filepath.Join(dir, "sock"), "-c", "listen_addresses=127.0.0.1"}, serverArgs...)...)
	logFile, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		t.Fatal(err)
	}
	server.Stdout, server.Stderr = logFile, logFile
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Fast shutdown, so the server's own processes exit with it.
		server.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { server.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			server.Process.Kill()
			<-done
		}
		logFile.Close()
	})
	ready, _ := testutil.Poll(30*time.Second, 200*time.Millisecond, func() (bool, string) {
		return asPostgres(nil, "pg_isready", "-q", "-h", filepath.Join(dir, "sock")).Run() == nil, ""
	})
	if !ready {
		logb, _ := os.ReadFile(logFile.Name())
		t.Fatalf("postgres did not start with %v:\n%s", serverArgs, logb)
	}

	// The image's entrypoint runs the script as postgres over the socket.
	runEnv := map[string]string{"PGHOST": filepath.Join(dir, "sock")}
	for k, v := range env {
		runEnv[k] = v
	}
	if out, err := asPostgres(runEnv, "sh", filepath.Join(dir, "10-app-role.sh")).CombinedOutput(); err != nil {
		t.Fatalf("10-app-role.sh: %v\n%s", err, out)
	}
	if out, err := asPostgres(env, probe...).CombinedOutput(); err != nil {
		t.Errorf("readiness probe %v: %v\n%s", probe, err, out)
	}
	query := func(pw string) (string, error) {
		out, err := asPostgres(map[string]string{"PGPASSWORD": pw}, "psql", "host=127.0.0.1 port=5432 user=shop dbname=orders", "-tAc",
			"select current_user, current_database(), r.rolsuper, pg_get_userbyid(d.datdba) from pg_roles r, pg_database d where r.rolname = current_user and d.datname = current_database()").CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if got, err := query(password); err != nil || got != "shop|orders|f|shop" {
		t.Errorf("the app role over TCP with its password: %q, %v (want shop|orders|f|shop: logged in, its own database, no superuser)", got, err)
	}
	if got, err := query("wrong"); err == nil || !strings.Contains(got, "password authentication failed") {
		t.Errorf("a wrong password: %q, %v", got, err)
	}
}
