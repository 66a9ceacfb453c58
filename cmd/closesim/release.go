package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/closesim/closesim/internal/protocol"
)

// This file builds a suite's test binary against another Pion release than
// the one its module pins (closesim matrix, bisect).
//
// Pinning pion/webrtc alone does not work: the module requires ice,
// interceptor, rtcp... directly at the newer versions minimal version
// selection keeps. So a build pins every pion module at the version the
// release's own go.mod names, in a scratch copy of the module, and rewrites
// the imports of the pion modules whose major version the release does not
// use (transport/v5 to v4 for webrtc v4.2.2-v4.2.20, turn/v5 to v4 before
// v4.2.13, stun/v4 to v3 before v4.2.20): their vnet and client APIs differ
// only in the import path for what closesim uses.

// pionMajors are the pion modules whose major version changed within
// webrtc v4's releases; a scratch copy's imports of them are rewritten to
// the major the release requires.
var pionMajors = []string{"github.com/pion/transport", "github.com/pion/turn", "github.com/pion/stun"}

// buildSpec is one Pion to build against: a webrtc release, optionally with
// some of its pion dependencies moved to other versions (bisect's second
// level).
type buildSpec struct {
	webrtc string            // a webrtc v4 release, "v4.2.10"
	with   map[string]string // module path -> version, overriding the release's go.mod
}

// String names the build as reports do: "v4.2.10", or
// "v4.2.10 with github.com/pion/ice/v4@v4.2.5".
func (b buildSpec) String() string {
	s := b.webrtc
	for _, p := range sortedKeys(b.with) {
		s += fmt.Sprintf(" with %s@%s", p, b.with[p])
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// requirement is one module requirement of a go.mod.
type requirement struct{ path, version string }

// goEnv is the environment of the go commands a build runs: with offline,
// the module proxy is off, so that only releases already in the module
// cache build (tests; closesim matrix -offline).
func goEnv(offline bool) []string {
	env := os.Environ()
	if offline {
		env = append(env, "GOPROXY=off", "GOFLAGS=-mod=mod")
	} else {
		env = append(env, "GOFLAGS=-mod=mod")
	}
	return env
}

// releaseRequirements returns the pion requirements of webrtc release v's
// go.mod (webrtc itself first), downloading the go.mod unless offline.
func releaseRequirements(v string, offline bool) ([]requirement, error) {
	if _, ok := parseSemver(v); !ok {
		return nil, usagef("%q is not a release version (want vMAJOR.MINOR.PATCH, e.g. v4.2.10)", v)
	}
	out, err := goCmd("", offline, "mod", "download", "-json", protocol.PionModule+"@"+v)
	var info struct{ GoMod, Error string }
	_ = json.Unmarshal(out, &info)
	if err != nil || info.GoMod == "" {
		why := strings.TrimSpace(info.Error)
		if why == "" {
			why = firstLine(string(out))
		}
		if offline {
			return nil, fmt.Errorf("%s is not in the module cache (offline): %s", v, why)
		}
		return nil, fmt.Errorf("%s: go mod download: %s", v, why)
	}
	data, err := os.ReadFile(info.GoMod)
	if err != nil {
		return nil, err
	}
	reqs := []requirement{{protocol.PionModule, v}}
	for _, r := range parseRequires(data) {
		if strings.HasPrefix(r.path, "github.com/pion/") {
			reqs = append(reqs, r)
		}
	}
	return reqs, nil
}

// parseRequires reads the require directives of a go.mod.
func parseRequires(gomod []byte) []requirement {
	var out []requirement
	inBlock := false
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		switch {
		case line == "require (":
			inBlock = true
			continue
		case inBlock && line == ")":
			inBlock = false
			continue
		case strings.HasPrefix(line, "require "):
			line = strings.TrimSpace(strings.TrimPrefix(line, "require "))
		case !inBlock:
			continue
		}
		if f := strings.Fields(line); len(f) == 2 {
			out = append(out, requirement{f[0], f[1]})
		}
	}
	return out
}

// goCmd runs the go command in dir and returns its standard output (its
// standard error too, when it fails).
func goCmd(dir string, offline bool, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Env = dir, goEnv(offline)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return append(stdout.Bytes(), stderr.Bytes()...), fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// module is the Go module a suite's package lives in, as the go command in
// the current directory sees it.
type module struct {
	path, dir string // module path and root directory
	pkgRel    string // the suite package's directory, relative to dir
}

// findModule locates tg's package and its module.
func findModule(tg target) (module, error) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}\t{{.Module.Path}}\t{{.Module.Dir}}", tg.pkg).Output()
	if err != nil {
		var ee *exec.ExitError
		msg := err.Error()
		if errors.As(err, &ee) {
			msg = firstLine(string(ee.Stderr))
		}
		return module{}, usagef("cannot find package %s: %s", tg.pkg, msg)
	}
	f := strings.Split(strings.TrimSpace(string(out)), "\t")
	if len(f) != 3 || f[2] == "" {
		return module{}, usagef("package %s is not in a module", tg.pkg)
	}
	rel, err := filepath.Rel(f[2], f[0])
	if err != nil {
		return module{}, err
	}
	return module{path: f[1], dir: f[2], pkgRel: rel}, nil
}

// sourceFiles lists the files of m that a build needs, relative to its
// root: git's tracked and untracked-but-not-ignored files when m is in a
// git work tree, otherwise every file outside hidden directories.
func sourceFiles(m module) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = m.dir
	if out, err := cmd.Output(); err == nil {
		var files []string
		for _, f := range strings.Split(string(out), "\x00") {
			if f == "" {
				continue
			}
			if st, err := os.Lstat(filepath.Join(m.dir, f)); err == nil && st.Mode().IsRegular() {
				files = append(files, filepath.ToSlash(f))
			}
		}
		slices.Sort(files)
		return files, nil
	}
	var files []string
	err := filepath.WalkDir(m.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != m.dir && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(m.dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	return files, err
}

// buildInputs lists the files of m that the test binary of tg's package
// is built from, relative to m's root: go.mod, go.sum and the Go and
// embedded files of every package of m the test imports. A build is
// cached under their hash, so editing docs or other packages' tests does
// not rebuild every release.
func buildInputs(tg target, m module) ([]string, error) {
	const format = `{{if .Module}}{{if eq .Module.Path "` + "%s" + `"}}{{.Dir}}{{range .GoFiles}}|{{.}}{{end}}{{range .CgoFiles}}|{{.}}{{end}}{{range .TestGoFiles}}|{{.}}{{end}}{{range .XTestGoFiles}}|{{.}}{{end}}{{range .EmbedFiles}}|{{.}}{{end}}{{end}}{{end}}`
	cmd := exec.Command("go", "list", "-deps", "-test", "-f", fmt.Sprintf(format, m.path), tg.pkg)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		msg := err.Error()
		if errors.As(err, &ee) {
			msg = firstLine(string(ee.Stderr))
		}
		return nil, usagef("cannot list the packages of %s: %s", tg.pkg, msg)
	}
	files := []string{"go.mod", "go.sum"}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) < 2 {
			continue
		}
		for _, name := range f[1:] {
			rel, err := filepath.Rel(m.dir, filepath.Join(f[0], name))
			if err != nil {
				return nil, err
			}
			files = append(files, filepath.ToSlash(rel))
		}
	}
	files = slices.DeleteFunc(files, func(f string) bool {
		_, err := os.Stat(filepath.Join(m.dir, f))
		return err != nil // go.sum may be absent
	})
	slices.Sort(files)
	return slices.Compact(files), nil
}

// build is a suite's test binary built against one Pion.
type build struct {
	spec    buildSpec
	bin     string // the test binary
	pkgDir  string // the package directory in the scratch module: the workers' working directory
	modules []requirement
	cached  bool // the binary came from the cache
}

// builder builds a suite's test binary against Pion releases, in scratch
// copies of its module under cache, and keeps the builds: a build of the
// same sources against the same Pion is reused.
type builder struct {
	tg      target
	mod     module
	files   []string
	srcHash string // of the build inputs' names and contents (buildInputs)
	cache   string
	offline bool
	extra   []string // more go test -c flags
}

func newBuilder(tg target, cache string, offline bool) (*builder, error) {
	m, err := findModule(tg)
	if err != nil {
		return nil, err
	}
	files, err := sourceFiles(m)
	if err != nil {
		return nil, fmt.Errorf("list the sources of %s: %w", m.path, err)
	}
	inputs, err := buildInputs(tg, m)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	for _, f := range inputs {
		data, err := os.ReadFile(filepath.Join(m.dir, f))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(data))
		h.Write(data)
	}
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("no cache directory (give -cache): %w", err)
		}
		cache = filepath.Join(dir, "closesim", "matrix")
	}
	return &builder{tg: tg, mod: m, files: files, srcHash: hex.EncodeToString(h.Sum(nil)), cache: cache, offline: offline}, nil
}

// requirements is the pion module list of spec: the release's go.mod with
// spec's overrides.
func (b *builder) requirements(spec buildSpec) ([]requirement, error) {
	reqs, err := releaseRequirements(spec.webrtc, b.offline)
	if err != nil {
		return nil, err
	}
	for i, r := range reqs {
		if v, ok := spec.with[r.path]; ok {
			reqs[i].version = v
		}
	}
	for _, p := range sortedKeys(spec.with) {
		if !slices.ContainsFunc(reqs, func(r requirement) bool { return r.path == p }) {
			return nil, usagef("%s does not require %s", spec.webrtc, p)
		}
	}
	return reqs, nil
}

// build returns the test binary of b's package built against spec,
// building it unless the cache holds it. An error says why the release
// cannot be built (a refusal, not a crash of closesim).
func (b *builder) build(spec buildSpec) (*build, error) {
	if v, ok := parseSemver(spec.webrtc); !ok || v[0] != 4 {
		return nil, fmt.Errorf("%s: closesim builds against pion/webrtc v4 releases only", spec.webrtc)
	}
	reqs, err := b.requirements(spec)
	if err != nil {
		return nil, err
	}
	key := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%q", b.srcHash, runtime.Version(), spec, b.extra))
	name := strings.NewReplacer(" ", "_", "/", "_", "@", "_").Replace(spec.webrtc) + "-" + hex.EncodeToString(key[:6])
	root := filepath.Join(b.cache, name)
	src := filepath.Join(root, "src")
	bin := filepath.Join(root, "worker.test")
	out := &build{spec: spec, bin: bin, pkgDir: filepath.Join(src, b.mod.pkgRel), modules: reqs}
	if _, err := os.Stat(bin); err == nil {
		out.cached = true
		return out, nil
	}
	if err := os.RemoveAll(root); err != nil {
		return nil, err
	}
	if err := b.copySources(src, reqs); err != nil {
		return nil, fmt.Errorf("%s: scratch copy: %w", spec, err)
	}
	if err := pinModules(src, reqs, b.offline); err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	args := append(append([]string{"test", "-c", "-o", bin}, b.extra...), "./"+filepath.ToSlash(b.mod.pkgRel))
	if _, err := goCmd(src, b.offline, args...); err != nil {
		return nil, fmt.Errorf("%s does not build: %s", spec, buildFailure(err))
	}
	return out, nil
}

// buildFailure is the first compiler error of a failed build, or its
// first line.
func buildFailure(err error) string {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, ": exit status 1: "); ok {
		msg = rest
	}
	for _, line := range strings.Split(msg, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "go: downloading") {
			return line
		}
	}
	return firstLine(msg)
}

// copySources copies b's module into dst with the imports of the pion
// modules in pionMajors rewritten to the majors reqs name.
func (b *builder) copySources(dst string, reqs []requirement) error {
	rewrite := majorRewrites(reqs)
	for _, f := range b.files {
		data, err := os.ReadFile(filepath.Join(b.mod.dir, f))
		if err != nil {
			return err
		}
		if strings.HasSuffix(f, ".go") {
			data = rewrite(data)
		}
		p := filepath.Join(dst, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// majorRewrites returns a function that rewrites references to every
// major of the modules in pionMajors to the major reqs requires.
func majorRewrites(reqs []requirement) func([]byte) []byte {
	var olds []*regexp.Regexp
	var news [][]byte
	for _, base := range pionMajors {
		for _, r := range reqs {
			if modBase(r.path) == base {
				olds = append(olds, regexp.MustCompile(regexp.QuoteMeta(base)+`(/v[0-9]+)?\b`))
				news = append(news, []byte(r.path))
			}
		}
	}
	return func(data []byte) []byte {
		for i, re := range olds {
			data = re.ReplaceAll(data, news[i])
		}
		return data
	}
}

// modBase is a module path without its major version suffix.
func modBase(path string) string {
	if i := strings.LastIndex(path, "/v"); i >= 0 {
		if _, err := strconv.Atoi(path[i+2:]); err == nil {
			return path[:i]
		}
	}
	return path
}

// pinModules replaces the pion requirements of the go.mod in dir with reqs.
func pinModules(dir string, reqs []requirement, offline bool) error {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	args := []string{"mod", "edit"}
	for _, r := range parseRequires(data) {
		if strings.HasPrefix(r.path, "github.com/pion/") {
			args = append(args, "-droprequire="+r.path)
		}
	}
	for _, r := range reqs {
		args = append(args, "-require="+r.path+"@"+r.version)
	}
	if _, err := goCmd(dir, offline, args...); err != nil {
		return fmt.Errorf("pin the pion modules: %w", err)
	}
	return nil
}

// parseSemver parses vMAJOR.MINOR.PATCH (no pre-release).
func parseSemver(v string) ([3]int, bool) {
	var out [3]int
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if !strings.HasPrefix(v, "v") || len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

// compareSemver orders two versions parseSemver accepts.
func compareSemver(a, b string) int {
	x, _ := parseSemver(a)
	y, _ := parseSemver(b)
	for i := range x {
		if x[i] != y[i] {
			return x[i] - y[i]
		}
	}
	return 0
}

// moduleVersions lists the released versions of a module, oldest first:
// those the module proxy lists (unless offline) and those the module
// cache holds a go.mod of.
func moduleVersions(path string, offline bool) ([]string, error) {
	var vs []string
	if !offline {
		out, err := goCmd("", false, "list", "-m", "-versions", path)
		if err == nil {
			f := strings.Fields(string(out))
			if len(f) > 1 {
				vs = f[1:]
			}
		}
	}
	// A proxy may list fewer versions than it serves: the module cache's
	// downloads count too.
	{
		cache, err := goCmd("", true, "env", "GOMODCACHE")
		if err != nil {
			return nil, err
		}
		entries, err := os.ReadDir(filepath.Join(strings.TrimSpace(string(cache)), "cache", "download", filepath.FromSlash(escapePath(path)), "@v"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		for _, e := range entries {
			if v, ok := strings.CutSuffix(e.Name(), ".mod"); ok {
				vs = append(vs, v)
			}
		}
	}
	vs = slices.DeleteFunc(vs, func(v string) bool { _, ok := parseSemver(v); return !ok })
	slices.SortFunc(vs, compareSemver)
	return slices.Compact(vs), nil
}

// escapePath is the module cache's case-encoding of a module path.
func escapePath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('!')
			b.WriteRune(r + 'a' - 'A')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// expandVersions turns -versions (a comma-separated list of releases and
// ranges FROM..TO) into releases, oldest first.
func expandVersions(spec string, offline bool) ([]string, error) {
	var out []string
	var all []string
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		from, to, isRange := strings.Cut(part, "..")
		check := []string{from}
		if isRange {
			check = append(check, to)
		}
		for _, v := range check {
			if _, ok := parseSemver(v); !ok {
				return nil, usagef("-versions: %q is not a release version (want vMAJOR.MINOR.PATCH or FROM..TO, e.g. v4.2.10..v4.2.26)", v)
			}
		}
		if !isRange {
			out = append(out, part)
			continue
		}
		if compareSemver(from, to) > 0 {
			return nil, usagef("-versions: range %q: want FROM..TO with FROM <= TO", part)
		}
		if all == nil {
			var err error
			if all, err = moduleVersions(protocol.PionModule, offline); err != nil {
				return nil, fmt.Errorf("list the releases of %s: %w", protocol.PionModule, err)
			}
		}
		n := len(out)
		for _, v := range all {
			if compareSemver(v, from) >= 0 && compareSemver(v, to) <= 0 {
				out = append(out, v)
			}
		}
		if len(out) == n {
			where := "the module proxy"
			if offline {
				where = "the module cache"
			}
			return nil, usagef("-versions: %s lists no release in %s", where, part)
		}
	}
	if len(out) == 0 {
		return nil, usagef("-versions: no release given")
	}
	slices.SortFunc(out, compareSemver)
	return slices.Compact(out), nil
}
