package catalog

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func phpJSON(t *testing.T, php string, env []string, code string, args ...string) []any {
	t.Helper()
	cmd := exec.Command(php, append([]string{"-r", code}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("php: %v\n%s", err, out)
	}
	var got []any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return got
}

// TestValuesReachPHPIntact: values a user sets reach MediaWiki's
// LocalSettings.php and WordPress's wp-config extras as PHP strings equal
// to what was set, whatever characters they hold.
func TestValuesReachPHPIntact(t *testing.T) {
	php := tool(t, "php")

	wiki := renderObjects(t, "stable/mediawiki", "shop", "prod", map[string]any{"wiki": map[string]any{"name": hostile, "server": "https://wiki.example.com/" + hostile}})
	dir := t.TempDir()
	ls := filepath.Join(dir, "LocalSettings.php")
	os.WriteFile(ls, []byte(dig(wiki["ConfigMap/shop-mediawiki"], "data", "LocalSettings.php").(string)), 0o644)
	got := phpJSON(t, php, nil, `define('MEDIAWIKI', 1); define('CACHE_ACCEL', 3); function wfLoadSkin($s) {} include $argv[1]; echo json_encode([$wgSitename, $wgServer]);`, ls)
	if got[0] != hostile || got[1] != "https://wiki.example.com/"+hostile {
		t.Errorf("LocalSettings.php gives %q, want %q", got, []string{hostile, "https://wiki.example.com/" + hostile})
	}

	url := "https://blog.example.com/" + hostile
	wp := renderObjects(t, "stable/wordpress", "shop", "prod", map[string]any{"objectCache": map[string]any{"enabled": true}, "wordpress": map[string]any{"url": url}})
	env := []string{}
	for k, v := range values(dig(podSpec(wp["Deployment/shop-wordpress"]), "containers", 0)) {
		env = append(env, k+"="+v)
	}
	// The image's wp-config.php evals WORDPRESS_CONFIG_EXTRA.
	got = phpJSON(t, php, env, `eval(getenv('WORDPRESS_CONFIG_EXTRA')); echo json_encode([WP_HOME, WP_SITEURL, $memcached_servers['default'][0], WP_CACHE_KEY_SALT]);`)
	want := []any{url, url, "shop-cache.prod.svc:11211", "prod/shop"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("wp-config extra %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// TestMagentoSetupArguments runs stable/magento's setup.sh with a php that
// records its arguments: on an empty database it calls setup:install with
// every value exactly as set (quotes, $, backslashes and all) and the
// database password from the environment, then writes env.php, upgrades and
// sets the mode.
func TestMagentoSetupArguments(t *testing.T) {
	sh := tool(t, "sh")
	objs := renderObjects(t, "stable/magento", "shop", "prod", hostileMagento)
	script := dig(objs["ConfigMap/shop-magento"], "data", "setup.sh").(string)
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.MkdirAll(bin, 0o755)
	log := filepath.Join(dir, "php.log")
	// php -r (the database check) says "not installed"; every call is logged
	// as its arguments, one per line, then a line "--".
	os.WriteFile(filepath.Join(bin, "php"), []byte(`#!/bin/sh
for a in "$@"; do printf '%s\n' "$a" >> "$PHP_LOG"; done
printf -- '--\n' >> "$PHP_LOG"
[ "$1" = -r ] && exit 1
exit 0
`), 0o755)
	os.WriteFile(filepath.Join(dir, "setup.sh"), []byte(script), 0o644)
	const dbPassword = "db pass 'with' \"quotes\" $x"
	cmd := exec.Command(sh, filepath.Join(dir, "setup.sh"))
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "PHP_LOG=" + log, "MAGENTO_ROOT=" + dir,
		"DB_HOST=shop-database.prod.svc", "DB_PORT=3306", "DB_NAME=magento", "DB_USER=magento", "DB_PASSWORD=" + dbPassword,
		"CRYPT_KEY=k", "ADMIN_PASSWORD=" + hostile, "SEARCH_HOST=shop-search.prod.svc", "SEARCH_PORT=9200"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("setup.sh: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(log)
	calls := strings.Split(strings.TrimSuffix(string(data), "--\n"), "--\n")
	var install []string
	var verbs []string
	for _, c := range calls {
		args := strings.Split(strings.TrimSuffix(c, "\n"), "\n")
		if args[0] == "-r" {
			verbs = append(verbs, "-r")
			continue
		}
		verbs = append(verbs, strings.Join(args[:min(2, len(args))], " "))
		if len(args) > 1 && args[1] == "setup:install" {
			install = args
		}
	}
	wantVerbs := []string{"-r", "bin/magento setup:install", "/config/configure.php app/etc/env.php", "bin/magento setup:upgrade", "bin/magento deploy:mode:set"}
	if strings.Join(verbs, "|") != strings.Join(wantVerbs, "|") {
		t.Errorf("php calls:\n%s\nwant:\n%s", strings.Join(verbs, "\n"), strings.Join(wantVerbs, "\n"))
	}
	has := map[string]bool{}
	for _, a := range install {
		has[a] = true
	}
	for _, want := range []string{
		"--db-host=shop-database.prod.svc:3306", "--db-password=" + dbPassword, "--key=k",
		"--base-url=http://shop.example.com/it's/", "--admin-firstname=" + hostile, "--admin-lastname=" + hostile,
		"--admin-password=" + hostile, "--search-engine=opensearch", "--opensearch-host=shop-search.prod.svc", "--opensearch-port=9200",
	} {
		if !has[want] {
			t.Errorf("setup:install lacks the argument %q; it got:\n%s", want, strings.Join(install, "\n"))
		}
	}
}
