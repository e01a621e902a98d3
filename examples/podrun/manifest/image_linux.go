//go:build linux

package manifest

import (
	"fmt"
	"strconv"

	"github.com/podkit/podkit/examples/internal/imageref"
	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
)

// PullPolicy is a container's imagePullPolicy.
type PullPolicy string

// Pull policies, as in Kubernetes.
const (
	PullAlways       PullPolicy = "Always"
	PullIfNotPresent PullPolicy = "IfNotPresent"
	PullNever        PullPolicy = "Never"
)

// ImageRef is what the runner needs to run a container from an image of
// the image store (image: a reference such as busybox or
// registry.k8s.io/pause:3.9).
type ImageRef struct {
	// Field is the manifest path of the image field, for errors
	// (spec.containers[0].image).
	Field string
	// Ref is the reference as written; Name its canonical form
	// (docker.io/library/busybox:latest).
	Ref, Name  string
	PullPolicy PullPolicy
	// Command and Args are the container's, $(VAR)-expanded and kept
	// apart: the image's Entrypoint and Cmd fill in what they leave out.
	Command, Args []string
	// User is "uid" or "uid:gid" from runAsUser/runAsGroup, ":gid" for a
	// runAsGroup alone (the image's user with that group), "" for the
	// image's USER.
	User string
	// RunAsNonRoot: the resolved user must not be uid 0.
	RunAsNonRoot bool
}

// imageRef parses a registry reference; nil (and a problem) when invalid.
func (c *converter) imageRef(field, image string, in *kubeapi.Container) *ImageRef {
	r, err := imageref.Parse(image)
	if err != nil {
		c.problems = append(c.problems, Problem{Field: field, Err: ErrImage,
			Msg: fmt.Sprintf("%q is not a valid image reference (%v); %s", image, err, imageHelp)})
		return nil
	}
	ref := &ImageRef{Field: field, Ref: image, Name: r.Name()}
	switch p := in.ImagePullPolicy; p {
	case "":
		// Kubernetes' default: Always for :latest or no tag, else IfNotPresent.
		ref.PullPolicy = PullIfNotPresent
		if r.Digest == "" && r.Tag == "latest" {
			ref.PullPolicy = PullAlways
		}
	case kubeapi.PullAlways, kubeapi.PullIfNotPresent, kubeapi.PullNever:
		ref.PullPolicy = PullPolicy(p)
	default:
		c.bad(field[:len(field)-len(".image")]+".imagePullPolicy", "%q (want Always, IfNotPresent or Never)", p)
	}
	return ref
}

// imageUser is the user string of securityContext for an image container.
func imageUser(uid, gid *int64) string {
	switch {
	case uid != nil && gid != nil:
		return strconv.FormatInt(*uid, 10) + ":" + strconv.FormatInt(*gid, 10)
	case uid != nil:
		return strconv.FormatInt(*uid, 10)
	case gid != nil:
		return ":" + strconv.FormatInt(*gid, 10)
	}
	return ""
}
