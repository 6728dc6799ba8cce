package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestTableMatchesPinnedPackage regenerates the table from the installed ieee-data and compares
// it with the committed one. It skips when the pinned package is not installed (CI does not
// install it: the table is committed).
func TestTableMatchesPinnedPackage(t *testing.T) {
	if _, err := os.Stat(filepath.Join(DefaultDir, "oui.csv")); err != nil {
		t.Skipf("ieee-data is not installed (apt-get install ieee-data=%s): %v", Pinned, err)
	}
	v, err := InstalledVersion()
	if err != nil || v != Pinned {
		t.Skipf("ieee-data %q installed, the table is pinned to %s (%v)", v, Pinned, err)
	}
	text, n, err := Build(DefaultDir, v)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := os.ReadFile("../ouidata/oui.tsv.gz")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(text, committed) {
		t.Fatalf("the committed table differs from ieee-data %s: run go run ./audit/devices/ouigen -out audit/devices/ouidata/oui.tsv.gz", v)
	}
	if n < 40000 {
		t.Errorf("only %d assignments", n)
	}
}

func TestBuildRejectsDamagedListing(t *testing.T) {
	dir := t.TempDir()
	head := "Registry,Assignment,Organization Name,Organization Address\n"
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(head+body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("oui.csv", "MA-L,60601F,\"SZ DJI TECHNOLOGY CO.,LTD\",\"6/F,HKUST\nshenzhen CN \"\nMA-L,080030,CERN,Geneva\nMA-L,080030,ROYAL MELBOURNE INST OF TECH,x\n")
	write("mam.csv", "MA-M,70B3D51,Some  Maker,x\n")
	write("oui36.csv", "MA-S,70B3D5001,Other,x\n")
	write("iab.csv", "IAB,0050C2001,Old  Maker ,x\n")
	text, n, err := Build(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"0050C2001\tIAB\tOld Maker\n", "080030\tMA-L\tCERN / ROYAL MELBOURNE INST OF TECH\n",
		"60601F\tMA-L\tSZ DJI TECHNOLOGY CO.,LTD\n", "70B3D51\tMA-M\tSome Maker\n", "70B3D5001\tMA-S\tOther\n"} {
		if !bytes.Contains(text, []byte(want)) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
	if n != 5 {
		t.Errorf("%d assignments", n)
	}
	write("mam.csv", "MA-M,70B3D5,Wrong length,x\n")
	if _, _, err := Build(dir, "test"); err == nil {
		t.Error("a 6-digit MA-M assignment was accepted")
	}
}
