//go:build linux

package manifest_test

import (
	"errors"
	"fmt"

	"github.com/podkit/podkit/examples/podrun/manifest"
)

func ExampleParse() {
	doc := `
apiVersion: v1
kind: Pod
metadata: {name: demo}
spec:
  nodeSelector: {disk: ssd}
  containers:
  - name: app
    image: host
    command: [sleep, "60"]
    resources: {limits: {memory: 64Mi}}
`
	pod, err := manifest.Parse([]byte(doc), manifest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := pod.Containers[0]
	fmt.Println(pod.Name, c.Spec.Name, c.Spec.Args, c.Spec.Resources.MemoryLimit, c.HostImage)
	fmt.Println(pod.Warnings)

	_, err = manifest.Parse([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  runtimeClassName: gvisor\n"+
		"  containers: [{name: a, image: host, command: [\"true\"]}]\n"), manifest.Options{})
	fmt.Println(errors.Is(err, manifest.ErrUnsupported))
	fmt.Println(err)
	// Output:
	// demo app [sleep 60] 67108864 true
	// [spec.nodeSelector: there is one node; scheduling fields are ignored]
	// true
	// convert manifest
	//   fields podkit does not support:
	//     spec.runtimeClassName
}
