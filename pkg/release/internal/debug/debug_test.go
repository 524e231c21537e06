package debug

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

const (
	secretValue = "hunter2-s3cr3t"
	token       = "tok-abcdef-123456"
)

// Requests that carry a Secret's value in every shape Helm and client-go
// send one: the value and its base64 never reach the --debug output.
func TestDebugRedactsSecrets(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString([]byte(secretValue))
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		want        []string // in the output
	}{
		{"create a Secret", "POST", "/api/v1/namespaces/team/secrets", "application/json",
			`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"data":{"password":"` + b64 + `"},"stringData":{"root":"` + secretValue + `"}}`,
			[]string{`"kind":"Secret"`, `"password":"<redacted>"`, `"root":"<redacted>"`, `"name":"db"`}},
		{"strategic merge patch of a Secret", "PATCH", "/api/v1/namespaces/team/secrets/db", "application/strategic-merge-patch+json",
			`{"data":{"password":"` + b64 + `"}}`, []string{`"password":"<redacted>"`}},
		{"JSON patch of a Secret", "PATCH", "/api/v1/namespaces/team/secrets/db", "application/json-patch+json",
			`[{"op":"replace","path":"/data/password","value":"` + b64 + `"}]`, []string{`"path":"/data/password"`, `"value":"<redacted>"`}},
		{"server-side apply of a Secret in YAML", "PATCH", "/api/v1/namespaces/team/secrets/db", "application/apply-patch+yaml",
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: " + secretValue + "\n", []string{`"password":"<redacted>"`}},
		{"a List holding a Secret", "POST", "/apis/example.com/v1/things", "application/json",
			`{"kind":"List","items":[{"kind":"ConfigMap","data":{"a":"visible"}},{"kind":"Secret","data":{"password":"` + b64 + `"}}]}`,
			[]string{`"a":"visible"`, `"password":"<redacted>"`}},
		{"a Secret body that is not JSON", "PUT", "/api/v1/namespaces/team/secrets/db", "application/vnd.kubernetes.protobuf",
			"\x00k8s\x00" + secretValue, []string{"bytes to a Secret, <redacted>"}},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			rc := Transport(&out)(&rest.Config{})
			rt := rc.WrapTransport(http.DefaultTransport)
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.contentType)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := out.String()
			for _, leak := range []string{secretValue, b64, token} {
				if strings.Contains(got, leak) {
					t.Errorf("output shows %q:\n%s", leak, got)
				}
			}
			for _, want := range append(tt.want, "debug: -> "+tt.method+" "+srv.URL+tt.path, "Authorization: Bearer <redacted>", "debug: <- 201 Created "+tt.method) {
				if !strings.Contains(got, want) {
					t.Errorf("output lacks %q:\n%s", want, got)
				}
			}
		})
	}
}

func TestDebugHeaders(t *testing.T) {
	h := http.Header{}
	h.Set("Authorization", "opaque-token")
	h.Set("Cookie", "session=abc")
	h.Set("Accept", "application/json")
	if got, want := showHeaders(h), "Accept: application/json; Authorization: <redacted>; Cookie: <redacted>"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// Helm 4 logs with slog: --debug prints each record as one line after
// "debug: helm: ", its attributes (and those of its logger, in their
// groups) as key=value; without a writer it prints nothing.
func TestHandlerPrintsHelmsRecordsAsLines(t *testing.T) {
	var b strings.Builder
	log := slog.New(Handler(&b)).With("release", "wiki").WithGroup("kube")
	log.Debug("creating 2 resource(s)", "namespace", "team", slog.Group("obj", "kind", "Secret"))
	log.Info("multi\nline")
	want := "debug: helm: creating 2 resource(s) release=wiki kube.namespace=team kube.obj.kind=Secret\n" +
		"debug: helm: multi\nline release=wiki\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	if Handler(nil).Enabled(context.Background(), slog.LevelError) {
		t.Error("Handler(nil) is enabled")
	}
}
