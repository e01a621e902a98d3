//go:build linux

package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/podkit/podkit/examples/podrun/manifest"
)

// dataDir is the kubelet's name for the symlink to the current contents
// of a configMap, secret or downwardAPI volume.
const dataDir = "..data"

// writeDataVolumes fills the pod's configMap, secret and downwardAPI
// volumes once the sandbox has made them (before any container exists).
// A sandbox volume lives in <sandbox dir>/volumes/<name>: the directory the
// sandbox bind-mounts into the containers (it is removed, tmpfs and all,
// with the sandbox).
func writeDataVolumes(sbDir string, vols []manifest.DataVolume) error {
	for _, v := range vols {
		if err := writeAtomic(filepath.Join(sbDir, "volumes", v.Name), v.Files); err != nil {
			return fmt.Errorf("%s volume %s: %w", v.Kind, v.Name, err)
		}
	}
	return nil
}

// writeAtomic lays files out in dir as the kubelet's atomic writer does:
// the files in a new "..<UTC timestamp>.<random>" directory (mode 0755,
// each file with its mode, parent directories 0755: the kubelet's under
// its usual umask 022, here whatever the umask), a "..data" symlink to it
// (made as "..data_tmp" and renamed over), and for every top-level name a
// symlink "name -> ..data/name". podrun writes each volume once.
func writeAtomic(dir string, files []manifest.File) error {
	ts, err := os.MkdirTemp(dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return err
	}
	if err := os.Chmod(ts, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		p := filepath.Join(ts, filepath.FromSlash(f.Path))
		if err := mkdirs(ts, filepath.Dir(filepath.FromSlash(f.Path))); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			return err
		}
		if err := os.Chmod(p, f.Mode); err != nil { // WriteFile's mode is masked by the umask
			return err
		}
	}
	tmp := filepath.Join(dir, dataDir+"_tmp")
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataDir)); err != nil {
		return err
	}
	made := map[string]bool{}
	for _, f := range files {
		top, _, _ := strings.Cut(f.Path, "/")
		if made[top] {
			continue
		}
		made[top] = true
		if err := os.Symlink(dataDir+"/"+top, filepath.Join(dir, top)); err != nil {
			return err
		}
	}
	return nil
}

// mkdirs makes rel's directories under base, each 0755 whatever the umask
// (containers of any user read the volume).
func mkdirs(base, rel string) error {
	if rel == "." {
		return nil
	}
	if err := mkdirs(base, filepath.Dir(rel)); err != nil {
		return err
	}
	p := filepath.Join(base, rel)
	if err := os.Mkdir(p, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	return os.Chmod(p, 0o755)
}
