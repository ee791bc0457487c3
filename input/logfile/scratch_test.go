package logfile

import (
	"fmt"
	"testing"

	"github.com/elastic/beats/v7/libbeat/common/transform/typeconv"
)

type fs struct {
	Offset int64  `struct:"offset"`
	Path   string `struct:"path"`
}
type cur struct {
	Files map[string]fs `struct:"files"`
}
type curp struct {
	Files map[string]*fs `struct:"files"`
}

func TestScratch(t *testing.T) {
	var c interface{}
	typeconv.Convert(&c, cur{Files: map[string]fs{"a": {1, "x"}, "b": {2, "y"}}})
	out := cur{Files: map[string]fs{}}
	err := typeconv.Convert(&out, c)
	fmt.Printf("%#v %v\n", out, err)
	var outp curp
	err = typeconv.Convert(&outp, c)
	fmt.Printf("%#v %v %v\n", outp, err, outp.Files["a"])
	m := map[string]interface{}{}
	var ci interface{} = m
	typeconv.Convert(&ci, map[string]interface{}{"z": 1})
	fmt.Printf("%#v %#v\n", ci, m)
}
