//go:build !unix

package testutil

import "errors"

func mkfifo(string) error { return errors.New("no named pipes here") }
