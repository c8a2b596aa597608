package gofunction

import (
	"debug/elf"
	"os"
	"path/filepath"
	"testing"
)

const echoPkg = "internal/testserver/echofn"

func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The asset hash depends only on the sources, so two machines (or two
// checkouts in different directories) with the same sources agree on it.
func TestSourceHashIsStableAndFollowsTheSources(t *testing.T) {
	r := root(t)
	h1, err := SourceHash(r, echoPkg)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := SourceHash(r, echoPkg)
	if err != nil {
		t.Fatal(err)
	}
	if h1 != h2 || len(h1) != 64 {
		t.Fatalf("hash not stable: %s vs %s", h1, h2)
	}

	// A copy of the module elsewhere hashes the same.
	copyDir := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum", filepath.Join(echoPkg, "main.go")} {
		data, err := os.ReadFile(filepath.Join(r, f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(copyDir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h3, err := SourceHash(copyDir, echoPkg)
	if err != nil {
		t.Fatal(err)
	}
	if h3 != h1 {
		t.Fatalf("same sources in another directory hash differently: %s vs %s", h3, h1)
	}

	// Changing a source file changes the hash.
	main := filepath.Join(copyDir, echoPkg, "main.go")
	data, _ := os.ReadFile(main)
	if err := os.WriteFile(main, append(data, []byte("\n// changed\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	h4, err := SourceHash(copyDir, echoPkg)
	if err != nil {
		t.Fatal(err)
	}
	if h4 == h1 {
		t.Fatal("hash did not change with the source")
	}
}

func TestBuildMakesAStaticArm64Bootstrap(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bootstrap")
	if err := Build(root(t), echoPkg, out); err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatalf("bootstrap is not an ELF binary: %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		t.Fatalf("bootstrap is for %v, want arm64", f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("bootstrap is dynamically linked; provided.al2023 needs a static binary")
		}
	}
}

func TestMissingPackageIsAClearError(t *testing.T) {
	if _, err := SourceHash(root(t), "lambdas/does-not-exist"); err == nil {
		t.Fatal("hashing a missing package succeeded")
	}
}
