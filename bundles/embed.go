// Package bundles holds the built-in catalogs compiled into the binary.
package bundles

import (
	"embed"
	"io/fs"
)

//go:embed all:stable
var stable embed.FS

// Stable returns the built-in stable catalog: one directory per bundle.
func Stable() fs.FS {
	sub, err := fs.Sub(stable, "stable")
	if err != nil {
		panic(err) // the directory is compiled in
	}
	return sub
}
