//go:build ignore

// mage.go runs the targets of magefile.go without installing mage:
//
//	go run mage.go test
package main

import (
	"os"

	"github.com/magefile/mage/mage"
)

func main() { os.Exit(mage.Main()) }
