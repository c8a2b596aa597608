package stacks

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/orders-pipeline/orders-pipeline/internal/construct/gofunction"
)

// glueScripts locates the Glue job scripts, their shared modules and the
// warehouse SQL under glue-scripts/.
type glueScripts struct {
	dir string
}

func newGlueScripts(dir string) glueScripts {
	if dir == "" {
		dir = filepath.Join(gofunction.MustModuleRoot(), "glue-scripts")
	}
	return glueScripts{dir: dir}
}

// file is the path of one file under glue-scripts/; a missing file stops
// synth here rather than as an asset error without the job's name.
func (g glueScripts) file(rel string) string {
	p := filepath.Join(g.dir, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		panic(fmt.Sprintf("glue script %s: %v", rel, err))
	}
	return p
}

// commonModules are every .py file in glue-scripts/common/, shipped to
// every job with --extra-py-files so the jobs import them by module name.
func (g glueScripts) commonModules() []string {
	return pythonModules(filepath.Join(g.dir, "common"))
}

// pythonModules lists the .py files directly in dir, sorted so the
// template is stable.
func pythonModules(dir string) []string {
	found, err := filepath.Glob(filepath.Join(dir, "*.py"))
	if err != nil {
		panic(err)
	}
	sort.Strings(found)
	return found
}
