package catalog

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
	"github.com/bundlesh/bundle/pkg/repo"
)

// backupScripts renders the backup: of stable/NAME, installed as release
// team-db, with its defaults.
func backupScripts(t *testing.T, name string) *render.BackupScripts {
	t.Helper()
	ctx := context.Background()
	p, err := plan.Make(ctx, repo.NewSet(nil), plan.Source{Reference: "stable/" + name})
	if err != nil {
		t.Fatal(err)
	}
	rel := render.ReleaseOptions{Name: "team-db", Namespace: "data"}
	vals, err := render.Values(p, nil, rel)
	if err != nil {
		t.Fatal(err)
	}
	b, err := render.Backup(p, vals, rel)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// The backup scripts of every data bundle pass shellcheck; stable/mysql's
// are stable/mariadb's (the library chart's).
func TestBackupScriptsPassShellcheck(t *testing.T) {
	sc := tool(t, "shellcheck")
	for _, name := range []string{"mariadb", "mysql", "postgresql", "redis"} {
		b := backupScripts(t, name)
		if !strings.HasPrefix(b.Dump, "#!/bin/sh\n") || !strings.HasPrefix(b.Restore, "#!/bin/sh\n") {
			t.Errorf("%s: the scripts are not rendered:\n%s\n%s", name, b.Dump, b.Restore)
		}
		for what, script := range map[string]string{"dump": b.Dump, "restore": b.Restore} {
			cmd := exec.Command(sc, "--shell=sh", "--severity=info", "-")
			cmd.Stdin = strings.NewReader(script)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Errorf("%s %s: shellcheck: %v\n%s\n--- script:\n%s", name, what, err, out.String(), script)
			}
		}
	}
	my, maria := backupScripts(t, "mysql"), backupScripts(t, "mariadb")
	if my.Dump != maria.Dump || my.Restore != maria.Restore {
		t.Error("stable/mysql's backup scripts are not stable/mariadb's")
	}
}

// backupEnv is the environment of a backup or restore Job of a server on
// port, its dump at file, for one claim when scope (BACKUP_DATABASE or
// BACKUP_KEY_PREFIX) is.
func backupEnv(port, admin, file, scope, value string) map[string]string {
	env := map[string]string{"DB_HOST": "127.0.0.1", "DB_PORT": port, "ADMIN_PASSWORD": admin, "BACKUP_FILE": file}
	if scope != "" {
		env[scope] = value
	}
	return env
}

// stable/mariadb's backup in a real MariaDB: a dump of the server and a
// restore return its databases as they were (rows, a table dropped since,
// a table added since gone); a claim's dump and restore bring back that
// app's database and leave the other app's as it is now; a restore of one
// app's claim from a dump of the whole server is refused, nothing changed.
func TestMariaDBBackup(t *testing.T) {
	const admin = `admin pw 'with' "quotes"`
	s, local := startMariaDB(t, admin)
	b := backupScripts(t, "mariadb")
	local("CREATE DATABASE a; CREATE TABLE a.t (x text); INSERT INTO a.t VALUES ('a1'), ('it''s \"a\"'); CREATE DATABASE b; CREATE TABLE b.t (x text); INSERT INTO b.t VALUES ('b1')")
	state := func() string {
		return local("SELECT GROUP_CONCAT(schema_name ORDER BY schema_name) FROM information_schema.schemata WHERE schema_name NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')") + "|" +
			local("SELECT GROUP_CONCAT(x ORDER BY x) FROM a.t") + "|" + local("SELECT GROUP_CONCAT(x ORDER BY x) FROM b.t") + "|" +
			local("SELECT GROUP_CONCAT(table_schema, '.', table_name ORDER BY 1) FROM information_schema.tables WHERE table_schema IN ('a', 'b')")
	}
	before := state()
	all, onlyA := filepath.Join(s.dir, "all.sql"), filepath.Join(s.dir, "a.sql")
	s.mustRunScript("dump", b.Dump, backupEnv(s.port, admin, all, "", ""), 1)
	s.mustRunScript("dump of a", b.Dump, backupEnv(s.port, admin, onlyA, "BACKUP_DATABASE", "a"), 1)

	local("INSERT INTO a.t VALUES ('later'); CREATE TABLE a.extra (y int); DROP TABLE b.t; CREATE DATABASE c")
	s.mustRunScript("restore", b.Restore, backupEnv(s.port, admin, all, "", ""), 2)
	if got := local("DROP DATABASE c; SELECT 1") + state(); got != "1"+before {
		t.Errorf("after the restore:\n got  %s\n want 1%s", got, before)
	}

	local("INSERT INTO a.t VALUES ('later'); DELETE FROM b.t; INSERT INTO b.t VALUES ('b2')")
	if out, err := s.runScript(b.Restore, backupEnv(s.port, admin, all, "BACKUP_DATABASE", "a")); err == nil || !strings.Contains(out, "refused") {
		t.Errorf("a claim's restore from the server's dump: %v\n%s", err, out)
	}
	if got := local("SELECT GROUP_CONCAT(x ORDER BY x) FROM a.t") + "|" + local("SELECT x FROM b.t"); got != `a1,it's "a",later|b2` {
		t.Errorf("after the refused restore: %s", got)
	}
	s.mustRunScript("restore of a", b.Restore, backupEnv(s.port, admin, onlyA, "BACKUP_DATABASE", "a"), 1)
	if got := local("SELECT GROUP_CONCAT(x ORDER BY x) FROM a.t") + "|" + local("SELECT x FROM b.t"); got != `a1,it's "a"|b2` {
		t.Errorf("after a's restore: %s (want a as dumped, b as it is now)", got)
	}
}

// stable/postgresql's backup in a real PostgreSQL: as TestMariaDBBackup,
// with a session open on the database restored, and owners kept.
func TestPostgresBackup(t *testing.T) {
	const admin = `admin pw 'with' "quotes"`
	s, local := startPostgres(t, admin)
	b := backupScripts(t, "postgresql")
	local("postgres", "CREATE ROLE ua LOGIN")
	local("postgres", "CREATE DATABASE a OWNER ua")
	local("postgres", "CREATE DATABASE b")
	local("a", "SET ROLE ua; CREATE TABLE t (x text); INSERT INTO t VALUES ('a1'), ('it''s \"a\"')")
	local("b", "CREATE TABLE t (x text); INSERT INTO t VALUES ('b1')")
	rows := func(db string) string { return local(db, "SELECT string_agg(x, ',' ORDER BY x) FROM t") }
	state := func() string {
		return local("postgres", "SELECT string_agg(datname || ':' || pg_get_userbyid(datdba), ',' ORDER BY datname) FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres'") + "|" +
			local("a", "SELECT string_agg(tablename || ':' || tableowner, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'") + "|" + rows("a") + "|" + rows("b")
	}
	before := state()
	all, onlyA := filepath.Join(s.dir, "all.sql"), filepath.Join(s.dir, "a.sql")
	s.mustRunScript("dump", b.Dump, backupEnv(s.port, admin, all, "", ""), 1)
	s.mustRunScript("dump of a", b.Dump, backupEnv(s.port, admin, onlyA, "BACKUP_DATABASE", "a"), 1)

	local("a", "INSERT INTO t VALUES ('later'); CREATE TABLE extra (y int)")
	local("b", "DELETE FROM t")
	// An app's session on a: the restore ends it.
	session := s.as(map[string]string{"PGPASSWORD": admin}, "psql", "-X", "-h", "127.0.0.1", "-p", s.port, "-U", "postgres", "-d", "a", "-c", "SELECT pg_sleep(60)")
	if err := session.Start(); err != nil {
		t.Fatal(err)
	}
	defer session.Process.Kill()
	s.mustRunScript("restore", b.Restore, backupEnv(s.port, admin, all, "", ""), 2)
	if got := state(); got != before {
		t.Errorf("after the restore:\n got  %s\n want %s", got, before)
	}

	local("a", "INSERT INTO t VALUES ('later')")
	local("b", "DELETE FROM t; INSERT INTO t VALUES ('b2')")
	if out, err := s.runScript(b.Restore, backupEnv(s.port, admin, all, "BACKUP_DATABASE", "a")); err == nil || !strings.Contains(out, "refused") {
		t.Errorf("a claim's restore from the server's dump: %v\n%s", err, out)
	}
	if got := rows("a") + "|" + rows("b"); got != `a1,it's "a",later|b2` {
		t.Errorf("after the refused restore: %s", got)
	}
	s.mustRunScript("restore of a", b.Restore, backupEnv(s.port, admin, onlyA, "BACKUP_DATABASE", "a"), 1)
	if got := rows("a") + "|" + rows("b"); got != `a1,it's "a"|b2` {
		t.Errorf("after a's restore: %s (want a as dumped, b as it is now)", got)
	}
}

// stable/redis's backup in a real redis-server: a dump and restore return
// every key as it was (odd names and values, TTLs, another database; keys
// added since gone); a claim's dump holds its keys only, and its restore
// brings them back and leaves the other app's as they are now; a claim's
// restore from the server's dump is refused, nothing changed.
func TestRedisBackup(t *testing.T) {
	for _, name := range []string{"setpriv", "redis-server", "redis-cli"} {
		tool(t, name)
	}
	s := newServer(t, "redis", "/usr/bin")
	const admin = `admin pw 'with' "quotes"`
	cli := func(args ...string) string {
		t.Helper()
		out, err := s.as(map[string]string{"REDISCLI_AUTH": admin}, append([]string{"redis-cli", "--no-auth-warning", "-h", "127.0.0.1", "-p", s.port}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	s.start(func() bool {
		out, _ := s.as(map[string]string{"REDISCLI_AUTH": admin}, "redis-cli", "--no-auth-warning", "-p", s.port, "ping").Output()
		return strings.TrimSpace(string(out)) == "PONG"
	},
		"redis-server", "--bind", "127.0.0.1", "--port", s.port, "--dir", s.dir, "--save", "", "--appendonly", "no", "--requirepass", admin)
	b := backupScripts(t, "redis")
	odd := "a:odd \"key\" \\ 'x'\n$y"
	cli("SET", odd, "v \x01\n'\"")
	cli("SET", "a:k", "a")
	cli("HSET", "a:h", "f", "1")
	cli("SET", "a:ttl", "t", "EX", "3600")
	cli("SET", "b:k", "b")
	cli("-n", "1", "SET", "other", "db1")
	state := func() string {
		return cli("--no-raw", "MGET", odd, "a:k", "a:ttl", "b:k") + "|" + cli("HGETALL", "a:h") + "|" + cli("-n", "1", "GET", "other") + "|" +
			cli("DBSIZE") + "|" + cli("EVAL", "return redis.call('TTL', KEYS[1]) > 3000 and 1 or 0", "1", "a:ttl")
	}
	before, oddValue := state(), cli("--no-raw", "GET", odd)
	all, onlyA := filepath.Join(s.dir, "all.rdb"), filepath.Join(s.dir, "a.rdb")
	s.mustRunScript("dump", b.Dump, backupEnv(s.port, admin, all, "", ""), 1)
	s.mustRunScript("dump of a", b.Dump, backupEnv(s.port, admin, onlyA, "BACKUP_KEY_PREFIX", "a:"), 1)

	cli("SET", "a:k", "later")
	cli("DEL", odd, "b:k")
	cli("SET", "new", "x")
	cli("-n", "1", "FLUSHDB")
	s.mustRunScript("restore", b.Restore, backupEnv(s.port, admin, all, "", ""), 2)
	if got := state(); got != before {
		t.Errorf("after the restore:\n got  %q\n want %q", got, before)
	}

	cli("SET", "a:k", "later")
	cli("SET", "a:new", "x")
	cli("SET", "b:k", "b2")
	if out, err := s.runScript(b.Restore, backupEnv(s.port, admin, all, "BACKUP_KEY_PREFIX", "a:")); err == nil || !strings.Contains(out, "refused") {
		t.Errorf("a claim's restore from the server's dump: %v\n%s", err, out)
	}
	if got := cli("MGET", "a:k", "a:new", "b:k"); got != "later\nx\nb2" {
		t.Errorf("after the refused restore: %q", got)
	}
	s.mustRunScript("restore of a", b.Restore, backupEnv(s.port, admin, onlyA, "BACKUP_KEY_PREFIX", "a:"), 1)
	if got := cli("--no-raw", "GET", odd) + "|" + cli("MGET", "a:k", "a:new", "b:k") + "|" + cli("-n", "1", "GET", "other"); got != oddValue+"|a\n\nb2|db1" {
		t.Errorf("after a's restore: %q (want a as dumped, the rest as it is now)", got)
	}
	if got := cli("HGET", "a:h", "f"); got != "1" {
		t.Errorf("a's hash after its restore: %q", got)
	}
}
