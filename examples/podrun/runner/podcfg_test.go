//go:build linux

package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podkit/podkit/examples/podrun/manifest"
	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
	"github.com/podkit/podkit/internal/testharness"
)

const cfgCgroupParent = "podkit-podrun-podcfg-test"

// cfgEnv is a privileged podrun run (no network: these tests look at what
// the containers see of the manifest) with its own run and log dirs.
type cfgEnv struct{ runDir, logDir string }

func newCfgEnv(t *testing.T) *cfgEnv {
	testharness.Privileged(t)
	t.Setenv("PODKIT_PAUSE", testharness.PauseBinary(t))
	t.Cleanup(func() { removeTestParent(cfgCgroupParent) })
	dir := t.TempDir()
	return &cfgEnv{runDir: filepath.Join(dir, "run"), logDir: filepath.Join(dir, "logs")}
}

// rec is any podrun --json record.
type rec struct {
	Type      string `json:"type"`
	Pod       string `json:"pod"`
	Container string `json:"container"`
	Ready     string `json:"ready"`
	Phase     string `json:"phase"`
	Log       string `json:"log"`
	ExitCode  int    `json:"exitCode"`
	Reason    string `json:"reason"`
	Pods      []rec  `json:"pods"`
}

// run runs podrun --json --logs on the manifest; onRec sees every record
// as it comes (and may send on sigs).
func (e *cfgEnv) run(t *testing.T, manifestPath string, sigs <-chan os.Signal, onRec func(rec), extra ...string) (int, []rec, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := append([]string{"--json", "--logs", "--no-network", "--backoff", "1s", "--run-dir", e.runDir, "--log-dir", e.logDir,
		"--cgroup-parent", cfgCgroupParent}, extra...)
	pr, pw := io.Pipe()
	var stderr strings.Builder
	codec := make(chan int, 1)
	go func() {
		codec <- Main(ctx, append(args, manifestPath), pw, &stderr, sigs)
		pw.Close()
	}()
	var recs []rec
	sc := bufio.NewScanner(pr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r rec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Errorf("not a JSON line: %q", sc.Text())
			continue
		}
		recs = append(recs, r)
		if onRec != nil {
			onRec(r)
		}
	}
	return <-codec, recs, stderr.String()
}

// logs are the output lines of one container (of one pod, "" for any).
func logs(recs []rec, pod, container string) []string {
	var out []string
	for _, r := range recs {
		if r.Type == "log" && r.Container == container && (pod == "" || r.Pod == pod) {
			out = append(out, r.Log)
		}
	}
	return out
}

func wantLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("output lacks %q; output:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

// TestPodrunConfigExample runs pods/config.yaml: env from
// configMapKeyRef/secretKeyRef/envFrom (prefix, optional), configMap and
// secret volumes (items, modes, binaryData, stringData, an optional
// missing ConfigMap) in the kubelet's ..data layout, read-only.
func TestPodrunConfigExample(t *testing.T) {
	e := newCfgEnv(t)
	code, recs, stderr := e.run(t, "../pods/config.yaml", nil, nil)
	if code != ExitSucceeded {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	out := logs(recs, "", "show")
	wantLines(t, out, "GREETING=hello from a ConfigMap", "PASSWORD=s3cr3t", "MISSING=unset",
		"MESSAGE=hello from a ConfigMap at level debug", "CFG_LOG_LEVEL=debug token=plain-text-token",
		"color=blue", "size=10", "--- /config/greeting.txt: 600 hello from a ConfigMap",
		"--- /all/logo.bin:  00 01 02 ff", "--- /creds: /creds/password 400", "/creds/token 400",
		"password=s3cr3t token=plain-text-token", "/config is read-only")
	layout := regexp.MustCompile(`^lrwxrwxrwx 1 root root +\d+ \.\.data -> \.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+$`)
	links := 0
	for _, l := range out {
		if layout.MatchString(l) {
			links++
		}
		if strings.HasSuffix(l, " conf -> ..data/conf") || strings.HasSuffix(l, " greeting.txt -> ..data/greeting.txt") {
			links++
		}
	}
	if links != 3 {
		t.Errorf("want ..data and two top-level links in /config, found %d:\n%s", links, strings.Join(out, "\n"))
	}
}

// TestPodrunDownwardExample runs pods/downward.yaml and checks every value
// against what podrun says of this machine.
func TestPodrunDownwardExample(t *testing.T) {
	e := newCfgEnv(t)
	code, recs, stderr := e.run(t, "../pods/downward.yaml", nil, nil)
	if code != ExitSucceeded {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	node := manifest.HostNode()
	var ips []string
	for _, v4 := range []bool{true, false} {
		for _, ip := range node.HostIPs {
			if ip.Is4() == v4 {
				ips = append(ips, ip.String())
			}
		}
	}
	eph := node.Allocatable[kubeapi.ResourceEphemeralStorage]
	storage := strconv.FormatInt(int64(math.Ceil(float64(eph.Value())/float64(1<<30))), 10)
	out := logs(recs, "", "show")
	uid := ""
	for i, l := range out {
		if l == "--- uid (440)" && i+1 < len(out) {
			uid = out[i+1]
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(uid) {
		t.Errorf("uid file %q", uid)
	}
	wantLines(t, out, "POD_NAME=downward", "POD_NAMESPACE=demo", "POD_UID="+uid, "APP_LABEL=downward", "OWNER=team-a",
		"NODE_NAME="+node.Name, "HOST_IP="+ips[0], "HOST_IPS="+strings.Join(ips, ","), "POD_IP=",
		"SERVICE_ACCOUNT=builder", "CPU_LIMIT=250", "CPU_REQUEST=250", "MEM_LIMIT=64", "MEM_REQUEST=33554432",
		"STORAGE_LIMIT="+storage, "HELPER_MEM_LIMIT=16777216",
		"--- name (440)", "downward", "--- namespace (440)", "demo", "--- labels (440)", `app="downward"`, `tier="backend"`,
		"--- annotations (440)", `note="say \"hi\""`, `owner="team-a"`, "--- meta/tier (600)", "backend",
		"--- cpu_limit_millis (440)", "250", "--- mem_request_mi (440)", "32")
}

// TestPodrunSeveralPods runs files of several pods: --until-ready stops
// them once all are ready or ended; the exit status is the most severe of
// the pods' (a failed pod makes 1, an interrupt 130); records and log
// lines name their pod; a pod whose setup fails removes the pods created
// before it (exit status 2, nothing left).
func TestPodrunSeveralPods(t *testing.T) {
	e := newCfgEnv(t)
	summary := func(recs []rec) rec {
		t.Helper()
		if len(recs) == 0 || recs[len(recs)-1].Type != "summary" {
			t.Fatalf("no summary record last: %+v", recs)
		}
		return recs[len(recs)-1]
	}
	phases := func(s rec) map[string]string {
		m := map[string]string{}
		for _, p := range s.Pods {
			m[p.Pod] = p.Phase
		}
		return m
	}

	t.Run("until-ready", func(t *testing.T) {
		code, recs, stderr := e.run(t, "../pods/twopods.yaml", nil, nil, "--until-ready")
		if code != ExitSucceeded {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		s := summary(recs)
		if got := phases(s); s.ExitCode != 0 || got["web"] != "Succeeded" || got["job"] != "Succeeded" {
			t.Fatalf("summary %+v", s)
		}
		wantLines(t, logs(recs, "web", "web"), "web: hello from the shared ConfigMap")
		wantLines(t, logs(recs, "job", "job"), "job: hello from the shared ConfigMap")
		for _, pod := range []string{"web", "job"} {
			if !slices.ContainsFunc(recs, func(r rec) bool { return r.Type == "status" && r.Pod == pod }) {
				t.Errorf("no status record of %s", pod)
			}
		}
	})

	t.Run("one fails", func(t *testing.T) {
		doc := "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec:\n  restartPolicy: Never\n" +
			"  containers: [{name: c, image: host, command: [\"true\"]}]\n---\n" +
			"apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  restartPolicy: Never\n" +
			"  containers: [{name: c, image: host, command: [sh, -c, \"exit 3\"]}]\n"
		code, recs, stderr := e.run(t, writeManifest(t, doc), nil, nil)
		if code != ExitFailed {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		if got := phases(summary(recs)); got["ok"] != "Succeeded" || got["bad"] != "Failed" {
			t.Fatalf("phases %v", got)
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		sigs := make(chan os.Signal, 2)
		sent := false
		code, recs, stderr := e.run(t, "../pods/twopods.yaml", sigs, func(r rec) {
			if r.Type == "status" && r.Pod == "web" && r.Ready == "1/1" && !sent {
				sent = true
				sigs <- syscall.SIGINT
			}
		})
		if code != ExitInterrupted {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		if got := phases(summary(recs)); got["web"] != "Stopped" {
			t.Fatalf("phases %v", got)
		}
	})

	t.Run("setup fails", func(t *testing.T) {
		// The second pod's hostPort needs a network: its setup fails
		// after the first pod was created.
		doc := "apiVersion: v1\nkind: Pod\nmetadata: {name: first}\nspec:\n" +
			"  containers: [{name: c, image: host, command: [sleep, \"60\"]}]\n---\n" +
			"apiVersion: v1\nkind: Pod\nmetadata: {name: second}\nspec:\n" +
			"  containers: [{name: c, image: host, command: [sleep, \"60\"], ports: [{containerPort: 80, hostPort: 18089}]}]\n"
		code, _, stderr := e.run(t, writeManifest(t, doc), nil, nil)
		if code != ExitUsage || !strings.Contains(stderr, "pod second: hostPort 18089 needs a pod network") {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		if ents, _ := os.ReadDir(e.runDir); slices.ContainsFunc(ents, func(d os.DirEntry) bool { return d.Name() == "first" }) {
			t.Fatalf("pod first left in %s", e.runDir)
		}
	})
}

// TestPodrunMissingObjects: a missing ConfigMap, Secret or key, or a
// document of another kind, fails before anything is created (exit 2).
func TestPodrunMissingObjects(t *testing.T) {
	e := newCfgEnv(t)
	for _, tc := range []struct{ doc, want string }{
		{"apiVersion: v1\nkind: Pod\nmetadata: {name: m}\nspec:\n  containers:\n  - name: c\n    image: host\n    command: [\"true\"]\n" +
			"    env: [{name: A, valueFrom: {configMapKeyRef: {name: nope, key: k}}}]\n",
			"spec.containers[0].env[0].valueFrom.configMapKeyRef.name: ConfigMap default/nope is not in the manifest"},
		{"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n---\n" +
			"apiVersion: v1\nkind: Pod\nmetadata: {name: m}\nspec:\n  volumes: [{name: v, secret: {secretName: s, items: [{key: x, path: x}]}}]\n" +
			"  containers: [{name: c, image: host, command: [\"true\"]}]\n",
			`document 2 (line 6, Pod m): spec.volumes[0].secret.items[0].key: Secret default/s has no key "x"`},
		{"apiVersion: v1\nkind: Service\nmetadata: {name: svc}\n---\n" +
			"apiVersion: v1\nkind: Pod\nmetadata: {name: m}\nspec:\n  containers: [{name: c, image: host, command: [\"true\"]}]\n",
			`document 1 (line 1, Service svc): kind "Service"`},
	} {
		code, _, stderr := e.run(t, writeManifest(t, tc.doc), nil, nil)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("exit %d, want 2 with %q; stderr:\n%s", code, tc.want, stderr)
		}
		if _, err := os.Stat(e.runDir); !os.IsNotExist(err) {
			t.Errorf("run dir created: %v", err)
		}
	}
}

// TestWriteAtomic checks the kubelet's layout: ..data -> ..<timestamp>,
// a link per top-level name, file modes whatever the umask.
func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	err := writeAtomic(dir, []manifest.File{{Path: "a", Data: []byte("1"), Mode: 0o644},
		{Path: "d/e/f", Data: []byte("2"), Mode: 0o400}, {Path: "d/g", Data: nil, Mode: 0o755}})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := os.Readlink(filepath.Join(dir, "..data"))
	if err != nil || !regexp.MustCompile(`^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+$`).MatchString(ts) {
		t.Fatalf("..data -> %q (%v)", ts, err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, d := range ents {
		names = append(names, d.Name())
	}
	if want := []string{ts, "..data", "a", "d"}; !slices.Equal(names, want) {
		t.Fatalf("entries %q, want %q", names, want)
	}
	for link, want := range map[string]string{"a": "..data/a", "d": "..data/d"} {
		if got, _ := os.Readlink(filepath.Join(dir, link)); got != want {
			t.Errorf("%s -> %q, want %q", link, got, want)
		}
	}
	for p, mode := range map[string]os.FileMode{"a": 0o644, "d/e/f": 0o400, "d/g": 0o755, "d/e": os.ModeDir | 0o755} {
		st, err := os.Stat(filepath.Join(dir, p))
		if err != nil || st.Mode() != mode {
			t.Errorf("%s: %v %v, want %v", p, st.Mode(), err, mode)
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, ts)); st.Mode() != os.ModeDir|0o755 {
		t.Errorf("timestamp dir mode %v", st.Mode())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "d/e/f")); string(b) != "2" {
		t.Errorf("d/e/f = %q", b)
	}
}
