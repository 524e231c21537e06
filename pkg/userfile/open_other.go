//go:build !unix

package userfile

// nonBlock: elsewhere the check before opening is all there is.
const nonBlock = 0
