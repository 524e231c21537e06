package helmsdk

import (
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/release"
	v1 "helm.sh/helm/v4/pkg/release/v1"
)

// What Helm 4 hands out is read as a v1 release, or refused in one line:
// another release version, or a record without its info (a Secret someone
// wrote by hand: every reader would dereference it).
func TestV1(t *testing.T) {
	ok := &v1.Release{Name: "wiki", Version: 3, Info: &v1.Info{}}
	tests := []struct {
		name string
		in   release.Releaser
		want string // error; "" for ok
	}{
		{"pointer", ok, ""},
		{"value", *ok, ""},
		{"nil", nil, ""},
		{"typed nil", (*v1.Release)(nil), ""},
		{"without info", &v1.Release{Name: "wiki", Version: 3}, `revision 3 of release "wiki" is stored without its info (status, times): it was not written by Helm or bundle; delete the Secret sh.helm.release.v1.wiki.v3 if it is not yours`},
		{"another version", struct{ Name string }{"x"}, "a stored release of type struct { Name string }: bundle reads only Helm's v1 releases"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := V1(tt.in)
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
