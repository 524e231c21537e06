package catalog

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestMagentoEnvPHP runs stable/magento's configure.php, as rendered, with
// PHP and the environment its setup container gets (wired from the
// release), on an env.php like the one setup:install writes, and checks
// the result: cache and sessions through the Sentinels of their own Redis
// instances, Varnish as the full-page cache, OpenSearch for search, and
// setup's own settings kept.
func TestMagentoEnvPHP(t *testing.T) {
	php := tool(t, "php")
	objs := renderObjects(t, "stable/magento", "shop", "prod", nil)
	script := dig(objs["ConfigMap/shop-magento"], "data", "configure.php").(string)
	env := []string{"PATH=" + os.Getenv("PATH"), "CACHE_PASSWORD=cache 'pw'", `SESSION_PASSWORD=sess"pw`}
	for k, v := range values(dig(podSpec(objs["Deployment/shop-magento"]), "initContainers", 1)) {
		env = append(env, k+"="+v)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "configure.php")
	envPHP := filepath.Join(dir, "env.php")
	os.WriteFile(conf, []byte(script), 0o644)
	// What setup:install leaves, in short.
	os.WriteFile(envPHP, []byte(`<?php
return [
    'db' => ['connection' => ['default' => ['host' => 'shop-database.prod.svc:3306', 'dbname' => 'magento']]],
    'crypt' => ['key' => 'k'],
    'cache' => ['frontend' => ['default' => ['id_prefix' => '40d_'], 'page_cache' => ['id_prefix' => '40d_']]],
    'session' => ['save' => 'files'],
    'MAGE_MODE' => 'default',
];
`), 0o644)
	cmd := exec.Command(php, conf, envPHP)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("configure.php: %v\n%s", err, out)
	}
	out, err := exec.Command(php, "-r", `echo json_encode(include $argv[1]);`, envPHP).CombinedOutput()
	if err != nil {
		t.Fatalf("the written env.php does not load: %v\n%s", err, out)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	sentinels := func(inst string) string {
		var l []string
		for i := 0; i < 3; i++ {
			l = append(l, "shop-"+inst+"-"+string(rune('0'+i))+".shop-"+inst+"-headless.prod.svc:26379")
		}
		return strings.Join(l, ",")
	}
	want := map[string]any{
		"db":        map[string]any{"connection": map[string]any{"default": map[string]any{"host": "shop-database.prod.svc:3306", "dbname": "magento"}}},
		"crypt":     map[string]any{"key": "k"},
		"MAGE_MODE": "production",
		"cache": map[string]any{"frontend": map[string]any{
			"default": map[string]any{
				"id_prefix": "40d_",
				"backend":   `Magento\Framework\Cache\Backend\Redis`,
				"backend_options": map[string]any{
					"server":                 "tcp://" + strings.ReplaceAll(sentinels("cache"), ",", ",tcp://"),
					"sentinel_master":        "mymaster",
					"sentinel_master_verify": "1",
					"password":               "cache 'pw'",
					"database":               "0",
					"compress_data":          "1",
				},
			},
			"page_cache": map[string]any{"id_prefix": "40d_"},
		}},
		"session": map[string]any{"save": "redis", "redis": map[string]any{
			"host":                     "shop-sessions-0.shop-sessions-headless.prod.svc",
			"port":                     "26379",
			"sentinel_servers":         sentinels("sessions"),
			"sentinel_master":          "mymaster",
			"sentinel_verify_master":   "1",
			"sentinel_connect_retries": "5",
			"password":                 `sess"pw`,
			"database":                 "0",
			"timeout":                  "2.5",
			"disable_locking":          "1",
		}},
		"http_cache_hosts": []any{map[string]any{"host": "shop-varnish.prod.svc", "port": "80"}},
		"system": map[string]any{"default": map[string]any{
			"system":  map[string]any{"full_page_cache": map[string]any{"caching_application": "2"}},
			"catalog": map[string]any{"search": map[string]any{"engine": "opensearch", "opensearch_server_hostname": "shop-search.prod.svc", "opensearch_server_port": "9200"}},
		}},
	}
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			g, _ := json.MarshalIndent(got[k], "", "  ")
			ww, _ := json.MarshalIndent(w, "", "  ")
			t.Errorf("env.php %s:\n%s\nwant:\n%s", k, g, ww)
		}
	}
	if len(got) != len(want) {
		t.Errorf("env.php has keys %v", reflect.ValueOf(got).MapKeys())
	}
}
