package catalog

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bundlesh/bundle/internal/testutil"
)

// haPod is one simulated redis-ha pod: a network namespace with its own
// address and /etc/hosts, a directory standing for its volumes, and the
// redis-server and redis-sentinel processes the StatefulSet's containers run.
type haPod struct {
	name, fqdn, ip, netns, dir string
	procs                      []*exec.Cmd
}

// TestRedisHAFailover runs stable/redis-ha's own init script, configuration
// and container commands, as rendered, with real redis-server and
// redis-sentinel processes in three network namespaces that stand for the
// three pods (each with the pod DNS names in its /etc/hosts). It checks the
// fresh start (pod 0 master, two replicas in sync, three Sentinels that know
// each other), then kills the master's pod and checks that the Sentinels
// promote a replica that has the data, and that the restarted pod's init
// script finds the new master and rejoins as its replica.
//
// Only the paths /config and /data are rewritten, to per-pod directories.
// Needs root (network namespaces) and Debian's redis-server, redis-sentinel
// and redis-tools.
func TestRedisHAFailover(t *testing.T) {
	for _, name := range []string{"ip", "redis-server", "redis-sentinel", "redis-cli"} {
		tool(t, name)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces (CI runs as root)")
	}
	const (
		release, ns = "r", "ns"
		password    = "s3cret pass*word" // a space and a glob: scripts must quote
	)
	// Names and addresses of this run's own, so that runs do not collide.
	tag := fmt.Sprintf("b%d", os.Getpid()%100000)
	subnet := fmt.Sprintf("10.213.%d.", os.Getpid()%250)
	objs := renderObjects(t, "stable/redis-ha", release, ns, map[string]any{
		"auth":     map[string]any{"password": password},
		"sentinel": map[string]any{"downAfterMilliseconds": 1000, "failoverTimeout": 5000},
	})
	full := release + "-redis-ha"
	cm := dig(objs["ConfigMap/"+full], "data").(map[string]any)
	secret, _ := base64.StdEncoding.DecodeString(dig(objs["Secret/"+full], "data", "redis-password").(string))
	if string(secret) != password {
		t.Fatalf("Secret holds %q", secret)
	}
	spec := podSpec(objs["StatefulSet/"+full])
	initC := dig(spec, "initContainers", 0)
	env := values(initC)
	env["REDISCLI_AUTH"] = string(secret) // from the Secret, in the pod
	initCmd := strs(dig(initC, "command"))
	redisCmd := strs(dig(spec, "containers", 0, "command"))
	sentinelCmd := strs(dig(spec, "containers", 1, "command"))

	// The network: a bridge, and per pod a namespace with a veth on it.
	root := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	quiet := func(args ...string) { exec.Command(args[0], args[1:]...).Run() }
	bridge := tag + "br"
	pods := make([]*haPod, 3)
	var hosts strings.Builder
	hosts.WriteString("127.0.0.1 localhost\n")
	for i := range pods {
		pod := &haPod{name: fmt.Sprintf("%s-%d", full, i), ip: fmt.Sprintf("%s%d", subnet, i+1), netns: fmt.Sprintf("%s-%d", tag, i), dir: filepath.Join(root, fmt.Sprint(i))}
		pod.fqdn = pod.name + "." + env["HEADLESS"]
		pods[i] = pod
		fmt.Fprintf(&hosts, "%s %s\n", pod.ip, pod.fqdn)
	}
	cleanup := func() {
		for _, pod := range pods {
			pod.kill()
			quiet("ip", "netns", "del", pod.netns)
			quiet("ip", "link", "del", pod.netns+"h")
			os.RemoveAll("/etc/netns/" + pod.netns)
		}
		quiet("ip", "link", "del", bridge)
	}
	cleanup()
	t.Cleanup(cleanup)
	run("ip", "link", "add", bridge, "type", "bridge")
	run("ip", "link", "set", bridge, "up")
	for _, pod := range pods {
		run("ip", "netns", "add", pod.netns)
		run("ip", "link", "add", pod.netns+"h", "type", "veth", "peer", "name", pod.netns+"p")
		run("ip", "link", "set", pod.netns+"h", "master", bridge)
		run("ip", "link", "set", pod.netns+"h", "up")
		run("ip", "link", "set", pod.netns+"p", "netns", pod.netns)
		run("ip", "netns", "exec", pod.netns, "ip", "addr", "add", pod.ip+"/24", "dev", pod.netns+"p")
		run("ip", "netns", "exec", pod.netns, "ip", "link", "set", pod.netns+"p", "up")
		run("ip", "netns", "exec", pod.netns, "ip", "link", "set", "lo", "up")
		if err := os.MkdirAll("/etc/netns/"+pod.netns, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("/etc/netns/"+pod.netns+"/hosts", []byte(hosts.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// start runs a pod: its init container to completion, then its two
	// containers in the background.
	start := func(pod *haPod) {
		t.Helper()
		os.RemoveAll(pod.dir)
		for _, d := range []string{"config", "data"} {
			if err := os.MkdirAll(filepath.Join(pod.dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, data := range cm {
			if err := os.WriteFile(filepath.Join(pod.dir, "config", name), []byte(pod.paths(data.(string))), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		podEnv := []string{"PATH=" + os.Getenv("PATH"), "POD_NAME=" + pod.name}
		for k, v := range env {
			podEnv = append(podEnv, k+"="+v)
		}
		cmd := pod.exec(podEnv, initCmd...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: init: %v\n%s", pod.name, err, out)
		}
		t.Logf("%s init: %s", pod.name, strings.TrimSpace(string(out)))
		for i, c := range [][]string{redisCmd, sentinelCmd} {
			cmd := pod.exec(podEnv, c...)
			log, err := os.Create(filepath.Join(pod.dir, fmt.Sprintf("container-%d.log", i)))
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stdout, cmd.Stderr = log, log
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pod.procs = append(pod.procs, cmd)
		}
	}
	// cli runs redis-cli from inside pod's network namespace, with the
	// password for Redis; sentinelCLI without (Sentinel asks for none).
	cliEnv := func(env []string, pod *haPod, args ...string) string {
		out, _ := pod.exec(env, append([]string{"redis-cli"}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out))
	}
	cli := func(pod *haPod, args ...string) string {
		return cliEnv([]string{"PATH=" + os.Getenv("PATH"), "REDISCLI_AUTH=" + string(secret)}, pod, args...)
	}
	sentinelCLI := func(pod *haPod, args ...string) string {
		return cliEnv([]string{"PATH=" + os.Getenv("PATH")}, pod, append([]string{"-h", pod.fqdn, "-p", env["SENTINEL_PORT"]}, args...)...)
	}
	redisPort := env["REDIS_PORT"]
	role := func(from, pod *haPod) string {
		return cli(from, "-h", pod.fqdn, "-p", redisPort, "info", "replication")
	}
	masterSeen := func(from *haPod) string {
		return strings.Split(sentinelCLI(from, "sentinel", "get-master-addr-by-name", env["MASTER_NAME"]), "\n")[0]
	}
	eventually := func(what string, timeout time.Duration, cond func() (bool, string)) {
		t.Helper()
		if ok, why := testutil.Poll(timeout, 200*time.Millisecond, cond); !ok {
			for _, pod := range pods {
				for i := 0; i < 2; i++ {
					logb, _ := os.ReadFile(filepath.Join(pod.dir, fmt.Sprintf("container-%d.log", i)))
					t.Logf("%s container %d log:\n%s", pod.name, i, logb)
				}
			}
			t.Fatalf("%s: not after %s: %s", what, timeout, why)
		}
	}
	inSync := func(master *haPod, replicas ...*haPod) func() (bool, string) {
		return func() (bool, string) {
			if r := role(master, master); !strings.Contains(r, "role:master") || !strings.Contains(r, fmt.Sprintf("connected_slaves:%d", len(replicas))) {
				return false, master.name + ": " + r
			}
			for _, rep := range replicas {
				r := role(rep, rep)
				if !strings.Contains(r, "role:slave") || !strings.Contains(r, "master_host:"+master.fqdn) || !strings.Contains(r, "master_link_status:up") {
					return false, rep.name + ": " + r
				}
			}
			return true, ""
		}
	}

	// A fresh start: all pods together, as podManagementPolicy Parallel does.
	for _, pod := range pods {
		start(pod)
	}
	eventually("pod 0 master with two replicas in sync", 30*time.Second, inSync(pods[0], pods[1], pods[2]))
	// Sentinels learn replicas from the master's INFO, every 10 s: a
	// failover before then cannot reconfigure a replica they do not know.
	eventually("three Sentinels that know each other, the master and both replicas", 40*time.Second, func() (bool, string) {
		for _, pod := range pods {
			if m := masterSeen(pod); m != pods[0].fqdn {
				return false, pod.name + " Sentinel says master is " + m
			}
			if r := sentinelCLI(pod, "sentinel", "replicas", env["MASTER_NAME"]); !strings.Contains(r, pods[1].fqdn) || !strings.Contains(r, pods[2].fqdn) {
				return false, pod.name + " Sentinel knows replicas: " + r
			}
			if n := sentinelCLI(pod, "sentinel", "ckquorum", env["MASTER_NAME"]); !strings.HasPrefix(n, "OK 3 usable Sentinels") {
				return false, pod.name + ": " + n
			}
		}
		return true, ""
	})
	if got := cli(pods[0], "-h", pods[0].fqdn, "-p", redisPort, "set", "cart:42", "3 items"); got != "OK" {
		t.Fatalf("SET on the master: %s", got)
	}
	if got := cli(pods[1], "-h", "127.0.0.1", "-p", redisPort, "ping"); got != "PONG" {
		t.Errorf("the probe's redis-cli ping with REDISCLI_AUTH: %s", got)
	}

	// The master's pod dies: a replica is promoted and keeps the data.
	pods[0].kill()
	var promoted *haPod
	eventually("a replica promoted by the Sentinels", 60*time.Second, func() (bool, string) {
		m := masterSeen(pods[1])
		for _, pod := range pods[1:] {
			if m == pod.fqdn && masterSeen(pods[2]) == m && strings.Contains(role(pod, pod), "role:master") {
				promoted = pod
				return true, ""
			}
		}
		return false, "Sentinels say master is " + m
	})
	if got := cli(promoted, "-h", promoted.fqdn, "-p", redisPort, "get", "cart:42"); got != "3 items" {
		t.Errorf("new master %s has cart:42 = %q", promoted.name, got)
	}

	// The pod comes back: its init script finds the new master.
	start(pods[0])
	others := []*haPod{pods[0]}
	for _, pod := range pods[1:] {
		if pod != promoted {
			others = append(others, pod)
		}
	}
	eventually("the restarted pod rejoins as a replica of the new master", 60*time.Second, inSync(promoted, others...))
	if got := cli(pods[0], "-h", pods[0].fqdn, "-p", redisPort, "get", "cart:42"); got != "3 items" {
		t.Errorf("the rejoined pod has cart:42 = %q", got)
	}
}

// paths points the rendered /config and /data at the pod's directories.
func (p *haPod) paths(s string) string {
	s = strings.ReplaceAll(s, "/config/", p.dir+"/config/")
	return strings.ReplaceAll(s, "/data", p.dir+"/data")
}

func (p *haPod) exec(env []string, args ...string) *exec.Cmd {
	full := []string{"netns", "exec", p.netns}
	for _, a := range args {
		full = append(full, p.paths(a))
	}
	cmd := exec.Command("ip", full...)
	cmd.Env = env
	return cmd
}

func (p *haPod) kill() {
	for _, c := range p.procs {
		if c.Process != nil {
			c.Process.Kill()
			c.Wait()
		}
	}
	p.procs = nil
}
