package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What an app bound to stable/redis with a claim needs of it.
const redisClaimOutputs = "[host, port, username, keyPrefix, passwordSecret, passwordKey]"

// stable/redis's claim in a real redis-server from Debian, with the
// aclfile stable/redis configures: two consumers each get an ACL user that
// reads and writes keys (and channels) under its own prefix only, running
// the claim again is safe and takes a new password, the users survive a
// restart (ACL SAVE), and dropping a claim drops its user, and its keys
// only with DELETE_DATA.
func TestRedisClaims(t *testing.T) {
	for _, name := range []string{"setpriv", "redis-server", "redis-cli"} {
		tool(t, name)
	}
	s := newServer(t, "redis", "/usr/bin")
	const admin = `admin pw 'with' "quotes"`
	acl := filepath.Join(s.dir, "users.acl")
	conf := filepath.Join(s.dir, "redis.conf")
	// As stable/redis's redis.conf and command: an aclfile in the data
	// directory, the default user's password from requirepass.
	if err := os.WriteFile(conf, []byte("bind 127.0.0.1\nport "+s.port+"\ndir "+s.dir+"\nappendonly no\nsave \"\"\naclfile "+acl+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cli := func(user, pw string, args ...string) (string, error) {
		full := append([]string{"--no-auth-warning", "-h", "127.0.0.1", "-p", s.port, "--user", user, "--pass", pw}, args...)
		out, err := s.as(nil, append([]string{"redis-cli"}, full...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	start := func() {
		s.start(func() bool { out, _ := cli("default", admin, "ping"); return out == "PONG" },
			"sh", "-c", `touch "$1" && sed -i "/^user default /d" "$1" && echo "user default on #$(printf %s "$3" | sha256sum | cut -d" " -f1) ~* &* +@all" >> "$1" && exec redis-server "$2" --requirepass "$3"`, "sh", acl, conf, admin)
		// The default user's password is the Secret's.
		if got, _ := cli("default", "", "GET", "provider:k"); !strings.Contains(got, "NOAUTH") {
			t.Fatalf("the server without a password: %q", got)
		}
	}
	start()
	must := func(args ...string) string {
		out, err := cli("default", admin, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return out
	}
	must("SET", "provider:k", "provider")

	scripts, idA := claimScriptsOf(t, "redis", "blog", redisClaimOutputs, "keyPrefix")
	_, idB := claimScriptsOf(t, "redis", "shop", redisClaimOutputs, "keyPrefix")
	env := func(id, pw string) map[string]string {
		return map[string]string{"DB_HOST": "127.0.0.1", "DB_PORT": s.port, "ADMIN_PASSWORD": admin, "CLAIM_USER": id, "CLAIM_PREFIX": id + ":", "CLAIM_PASSWORD": pw}
	}
	pwA, pwB := `pw A $x 'q' \`, "pwB"
	for _, c := range []struct{ id, pw string }{{idA, pwA}, {idB, pwB}} {
		s.mustRunScript("claim.sh "+c.id, scripts["claim.sh"], env(c.id, c.pw), 2)
		for _, k := range []string{"a", "b"} {
			if got, err := cli(c.id, c.pw, "SET", c.id+":"+k, c.id); err != nil || got != "OK" {
				t.Errorf("%s SET its key: %q, %v", c.id, got, err)
			}
		}
		if got, err := cli(c.id, c.pw, "GET", c.id+":a"); err != nil || got != c.id {
			t.Errorf("%s GET its key: %q, %v", c.id, got, err)
		}
	}
	// Outside its prefix, other databases, dangerous commands: refused.
	for _, args := range [][]string{
		{"GET", "provider:k"}, {"SET", "x", "1"}, {"GET", idB + ":a"}, {"SET", idB + ":a", "mine"},
		{"PUBLISH", idB + ":ch", "x"}, {"SELECT", "1"}, {"FLUSHALL"}, {"KEYS", "*"}, {"CONFIG", "GET", "*"},
	} {
		if got, _ := cli(idA, pwA, args...); !strings.Contains(got, "NOPERM") {
			t.Errorf("%s %v: %q, want NOPERM", idA, args, got)
		}
	}
	if got, err := cli(idA, pwA, "PUBLISH", idA+":ch", "x"); err != nil || got != "0" {
		t.Errorf("%s PUBLISH to its channel: %q, %v", idA, got, err)
	}
	if got, _ := cli(idA, "wrong", "PING"); !strings.Contains(got, "WRONGPASS") {
		t.Errorf("a wrong password: %q", got)
	}
	// Again with a new password: the new one works, the old one not.
	s.mustRunScript("claim.sh with a new password", scripts["claim.sh"], env(idA, "new"), 1)
	pwA = "new"
	if got, err := cli(idA, pwA, "GET", idA+":a"); err != nil || got != idA {
		t.Errorf("after a new password: %q, %v", got, err)
	}
	// Saved: after a restart the users are back, the default user's
	// password is still requirepass's.
	if b, err := os.ReadFile(acl); err != nil || !strings.Contains(string(b), "user "+idA+" ") {
		t.Fatalf("aclfile: %q, %v", b, err)
	}
	must("SHUTDOWN", "NOSAVE")
	start()
	must("SET", "provider:k", "provider")
	if got, err := cli(idB, pwB, "SET", idB+":c", idB); err != nil || got != "OK" {
		t.Errorf("%s after a restart: %q, %v", idB, got, err)
	}
	must("SET", idA+":a", idA)
	must("SET", idA+":b", idA)
	must("SET", idB+":a", idB)

	// Dropping A's claim, keeping its keys; then B's with its keys.
	un := env(idA, "")
	un["DELETE_DATA"] = "false"
	s.mustRunScript("unclaim.sh", scripts["unclaim.sh"], un, 2)
	if got := must("ACL", "LIST"); strings.Contains(got, "user "+idA+" ") || !strings.Contains(got, "user "+idB+" ") {
		t.Errorf("after dropping %s: %s", idA, got)
	}
	if got, _ := cli(idA, pwA, "PING"); !strings.Contains(got, "WRONGPASS") {
		t.Errorf("%s after its drop: %q", idA, got)
	}
	if got := must("GET", idA+":a"); got != idA {
		t.Errorf("the kept keys of %s: %q", idA, got)
	}
	un = env(idB, "")
	un["DELETE_DATA"] = "true"
	s.mustRunScript("unclaim.sh DELETE_DATA=true", scripts["unclaim.sh"], un, 1)
	if got := must("--scan", "--pattern", idB+":*"); got != "" {
		t.Errorf("keys of %s left: %q", idB, got)
	}
	if got := must("MGET", "provider:k", idA+":a", idA+":b"); got != "provider\n"+idA+"\n"+idA {
		t.Errorf("other keys after deleting %s's: %q", idB, got)
	}
	if b, _ := os.ReadFile(acl); strings.Contains(string(b), "user "+idB+" ") || strings.Contains(string(b), "user "+idA+" ") {
		t.Errorf("aclfile after the drops: %s", b)
	}
	// A provider that is gone: nothing to drop, and no failure.
	gone := env(idA, "")
	gone["ADMIN_PASSWORD"] = ""
	other := env(idA, "")
	other["DB_PORT"] = freePort(t)
	for _, e := range []map[string]string{gone, other} {
		if out, err := s.runScript(scripts["unclaim.sh"], e); err != nil {
			t.Errorf("unclaim.sh without a provider: %v\n%s", err, out)
		}
	}
}
