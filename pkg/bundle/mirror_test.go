package bundle

import (
	"strings"
	"testing"
)

func TestMirrored(t *testing.T) {
	for repo, want := range map[string]string{
		"docker.io/library/mariadb": "reg.internal/mirror/docker.io/library/mariadb",
		"localhost:5000/app":        "reg.internal/mirror/localhost_5000/app",
		"ghcr.io/org/team/tool":     "reg.internal/mirror/ghcr.io/org/team/tool",
	} {
		if got := Mirrored("reg.internal/mirror/", repo); got != want {
			t.Errorf("Mirrored(%s) = %s, want %s", repo, got, want)
		}
		if _, err := ParseImage(want + "@sha256:" + strings.Repeat("a", 64)); err != nil {
			t.Errorf("%s is not a valid image reference: %v", want, err)
		}
	}
}
