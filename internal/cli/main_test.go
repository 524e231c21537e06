package cli

import (
	"os"
	"testing"

	"github.com/bundlesh/bundle/internal/testutil"
)

// TestMain keeps the tests away from the user's repositories and cache, and
// removes the bundle binary they built.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bundle-cli-test-")
	if err != nil {
		panic(err)
	}
	os.Setenv("BUNDLE_CONFIG_HOME", dir+"/config")
	os.Setenv("BUNDLE_CACHE_HOME", dir+"/cache")
	code := m.Run()
	os.RemoveAll(dir)
	testutil.RemoveBundleBinary()
	os.Exit(code)
}
