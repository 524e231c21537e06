package catalog

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bundlesh/bundle/internal/testutil"
)

// varnishFor renders ref (as release "shop"), and runs the Varnish it
// contains with the rendered VCL and the Deployment's own command, in front
// of backend. Only the listen address, the working directory, the VCL path
// and the backend's address are changed, and the jail is off (tests run as
// root). It returns Varnish's address.
func varnishFor(t *testing.T, ref string, vals map[string]any, backend *httptest.Server) string {
	t.Helper()
	varnishd := tool(t, "varnishd")
	objs := renderObjects(t, ref, "shop", "default", vals)
	vcl, _ := dig(objs["ConfigMap/shop-varnish"], "data", "default.vcl").(string)
	rawCmd, _ := dig(podSpec(objs["Deployment/shop-varnish"]), "containers", 0, "command").([]any)
	if vcl == "" || len(rawCmd) == 0 {
		t.Fatal("no Varnish ConfigMap or Deployment named shop-varnish")
	}
	command := strs(rawCmd)
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(backend.URL, "http://"))
	vcl = backendHost.ReplaceAllString(vcl, `.host = "`+host+`"`)
	vcl = regexp.MustCompile(`\.port = "[^"]*";`).ReplaceAllString(vcl, `.port = "`+port+`";`)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "default.vcl"), []byte(vcl), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	args := []string{"-j", "none"}
	for i := 1; i < len(command); i++ {
		a := command[i]
		switch {
		case a == "/etc/varnish/default.vcl":
			a = filepath.Join(dir, "default.vcl")
		case strings.HasPrefix(a, "http=:"):
			a = "http=" + addr + ",HTTP"
		case strings.HasPrefix(a, "/var/lib/varnish"):
			a = filepath.Join(dir, "work")
		}
		args = append(args, a)
	}
	cmd := exec.Command(varnishd, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	up, _ := testutil.Poll(30*time.Second, 100*time.Millisecond, func() (bool, string) {
		resp, err := http.Get("http://" + addr + "/.varnish/health")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
	if !up {
		t.Fatalf("varnishd %s did not come up:\n%s", strings.Join(args, " "), out.String())
	}
	return addr
}

// countingBackend serves pages and counts the requests that reach it by path.
type countingBackend struct {
	mu   sync.Mutex
	hits map[string]int
}

func (b *countingBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.hits[r.URL.Path]++
	n := b.hits[r.URL.Path]
	b.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/product") {
		w.Header().Set("X-Magento-Tags", "cat_p_1,cat_c_2")
	}
	w.Header().Set("Cache-Control", "public, max-age=86400")
	fmt.Fprintf(w, "%s #%d", r.URL.Path, n)
}

func (b *countingBackend) count(path string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hits[path]
}

func do(t *testing.T, method, url string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// TestMagentoVarnish runs the Varnish of stable/magento, with the Magento
// VCL its bundle.yaml gives, in front of a backend: pages are cached, cart
// and checkout are not, Magento's tag purge evicts exactly the tagged pages,
// and the tags are not shown to clients.
func TestMagentoVarnish(t *testing.T) {
	backend := &countingBackend{hits: map[string]int{}}
	srv := httptest.NewServer(backend)
	defer srv.Close()
	addr := "http://" + varnishFor(t, "stable/magento", nil, srv)

	for i := 0; i < 3; i++ {
		if code, body := do(t, "GET", addr+"/product/1", nil); code != 200 || body != "/product/1 #1" {
			t.Fatalf("GET /product/1: %d %q", code, body)
		}
	}
	if n := backend.count("/product/1"); n != 1 {
		t.Errorf("a cacheable page reached the backend %d times, want once", n)
	}
	do(t, "GET", addr+"/about", nil)
	do(t, "GET", addr+"/about", nil)
	for i := 0; i < 2; i++ {
		do(t, "GET", addr+"/checkout/cart", nil)
	}
	if n := backend.count("/checkout/cart"); n != 2 {
		t.Errorf("checkout reached the backend %d times, want every time (2)", n)
	}
	do(t, "POST", addr+"/product/1", nil)
	if n := backend.count("/product/1"); n != 2 {
		t.Errorf("a POST was answered from the cache")
	}
	_, resp := do(t, "GET", addr+"/product/1", nil)
	if strings.Contains(resp, "X-Magento-Tags") {
		t.Error("tags leaked into the body")
	}
	req, _ := http.NewRequest("GET", addr+"/product/1", nil)
	if r, err := http.DefaultClient.Do(req); err == nil {
		if r.Header.Get("X-Magento-Tags") != "" {
			t.Error("X-Magento-Tags is shown to clients")
		}
		r.Body.Close()
	}

	// Magento purges by tag pattern, as it does when product 1 is saved.
	if code, _ := do(t, "PURGE", addr+"/", map[string]string{"X-Magento-Tags-Pattern": "((^|,)cat_p_1(,|$))"}); code != 200 {
		t.Fatalf("PURGE by tag: %d", code)
	}
	do(t, "GET", addr+"/product/1", nil)
	if n := backend.count("/product/1"); n != 3 {
		t.Errorf("after purging tag cat_p_1, /product/1 reached the backend %d times in all, want 3", n)
	}
	do(t, "GET", addr+"/about", nil)
	if n := backend.count("/about"); n != 1 {
		t.Errorf("purging cat_p_1 also evicted the untagged /about (%d backend hits)", n)
	}
}

// TestDefaultVarnish runs stable/varnish's default VCL: GETs are cached,
// requests with cookies or authorization pass, PURGE evicts one URL and
// BAN a pattern; and without a backend it answers 503 saying what to set.
func TestDefaultVarnish(t *testing.T) {
	backend := &countingBackend{hits: map[string]int{}}
	srv := httptest.NewServer(backend)
	defer srv.Close()
	addr := "http://" + varnishFor(t, "stable/varnish", map[string]any{"backend": map[string]any{"host": "web"}}, srv)

	do(t, "GET", addr+"/a", nil)
	do(t, "GET", addr+"/a", nil)
	do(t, "GET", addr+"/a", map[string]string{"Cookie": "session=1"})
	do(t, "GET", addr+"/a", map[string]string{"Authorization": "Basic eDp5"})
	if n := backend.count("/a"); n != 3 {
		t.Errorf("/a reached the backend %d times, want 3 (once cached, then cookie and authorization pass)", n)
	}
	if code, _ := do(t, "PURGE", addr+"/a", nil); code != 200 {
		t.Errorf("PURGE: %d", code)
	}
	do(t, "GET", addr+"/a", nil)
	do(t, "GET", addr+"/b/1", nil)
	do(t, "GET", addr+"/b/2", nil)
	if code, _ := do(t, "BAN", addr+"/b/", nil); code != 200 {
		t.Errorf("BAN: %d", code)
	}
	do(t, "GET", addr+"/b/1", nil)
	do(t, "GET", addr+"/a", nil)
	if a, b1 := backend.count("/a"), backend.count("/b/1"); a != 4 || b1 != 2 {
		t.Errorf("after PURGE /a and BAN /b/: backend hits /a=%d (want 4), /b/1=%d (want 2)", a, b1)
	}

	none := "http://" + varnishFor(t, "stable/varnish", nil, srv)
	if code, body := do(t, "GET", none+"/", nil); code != 503 || !strings.Contains(body, "set backend.host") {
		t.Errorf("no backend: %d %q", code, body)
	}
}
