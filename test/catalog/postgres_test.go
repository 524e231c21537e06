package catalog

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
	s := newServer(t, "postgres", pgBin) // root, for the network namespace too
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

	// A network namespace of its own, where every command of s runs.
	netns := fmt.Sprintf("bpg%d", os.Getpid()%100000)
	exec.Command("ip", "netns", "del", netns).Run()
	if out, err := exec.Command("ip", "netns", "add", netns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", netns).Run() })
	exec.Command("ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up").Run()

	s.netns = netns
	if out, err := s.as(nil, "initdb", "-D", filepath.Join(s.dir, "data"), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	sock := filepath.Join(s.dir, "sock")
	s.start(func() bool { return s.as(nil, "pg_isready", "-q", "-h", sock).Run() == nil },
		append([]string{"postgres", "-D", filepath.Join(s.dir, "data"), "-k", sock, "-c", "listen_addresses=127.0.0.1"}, serverArgs...)...)

	// The image's entrypoint runs the script as postgres over the socket.
	runEnv := map[string]string{"PGHOST": sock}
	for k, v := range env {
		runEnv[k] = v
	}
	s.mustRunScript("10-app-role.sh", script, runEnv, 1)
	if out, err := s.as(env, probe...).CombinedOutput(); err != nil {
		t.Errorf("readiness probe %v: %v\n%s", probe, err, out)
	}
	query := func(pw string) (string, error) {
		out, err := s.as(map[string]string{"PGPASSWORD": pw}, "psql", "host=127.0.0.1 port=5432 user=shop dbname=orders", "-tAc",
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
