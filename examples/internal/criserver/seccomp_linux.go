//go:build linux

package criserver

import (
	"strings"

	"github.com/podkit/podkit/nsjoin/seccomp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// containerSeccomp is the profile a container runs under: what the
// kubelet asks in linux.security_context.seccomp (it has already merged
// the pod's profile into each container's), else the deprecated
// seccomp_profile_path, else Unconfined (the kubelet's "unset", which
// critest checks reads Seccomp: 0). A privileged container ignores the
// profile, as containerd and CRI-O do.
func containerSeccomp(sc *runtimeapi.LinuxContainerSecurityContext) (seccomp.Profile, error) {
	if sc.GetPrivileged() {
		return seccomp.Profile{Type: seccomp.Unconfined}, nil
	}
	if p := sc.GetSeccomp(); p != nil {
		return criProfile(p, "linux.security_context.seccomp")
	}
	//lint:ignore SA1019 older kubelets still send the deprecated path
	return criProfilePath(sc.GetSeccompProfilePath(), "linux.security_context.seccomp_profile_path")
}

// checkSandboxSeccomp validates the pod-level profile. It applies to the
// sandbox container of other runtimes; podkit's pause is its own static
// program that runs no user code, so only a malformed value matters.
func checkSandboxSeccomp(sc *runtimeapi.LinuxSandboxSecurityContext) error {
	var err error
	if p := sc.GetSeccomp(); p != nil {
		_, err = criProfile(p, "linux.security_context.seccomp")
	} else {
		//lint:ignore SA1019 older kubelets still send the deprecated path
		_, err = criProfilePath(sc.GetSeccompProfilePath(), "linux.security_context.seccomp_profile_path")
	}
	return err
}

// criProfile maps a CRI SecurityProfile (whose zero type is
// RuntimeDefault) to the sandbox's.
func criProfile(p *runtimeapi.SecurityProfile, field string) (seccomp.Profile, error) {
	var out seccomp.Profile
	switch p.GetProfileType() {
	case runtimeapi.SecurityProfile_RuntimeDefault:
		out.Type = seccomp.RuntimeDefault
	case runtimeapi.SecurityProfile_Unconfined:
		out.Type = seccomp.Unconfined
	case runtimeapi.SecurityProfile_Localhost:
		out = seccomp.Profile{Type: seccomp.Localhost, LocalhostProfile: p.GetLocalhostRef()}
	default:
		return out, unsupported(field+".profile_type", p.GetProfileType())
	}
	if err := out.Validate(); err != nil {
		return out, status.Errorf(codes.InvalidArgument, "%s: %v", field, err)
	}
	return out, nil
}

// criProfilePath maps the deprecated string form: "" or "unconfined",
// "runtime/default" (or "docker/default"), "localhost/<absolute path>".
func criProfilePath(p, field string) (seccomp.Profile, error) {
	var out seccomp.Profile
	switch {
	case p == "" || p == "unconfined":
		out.Type = seccomp.Unconfined
	case p == "runtime/default" || p == "docker/default":
		out.Type = seccomp.RuntimeDefault
	case strings.HasPrefix(p, "localhost/"):
		out = seccomp.Profile{Type: seccomp.Localhost, LocalhostProfile: strings.TrimPrefix(p, "localhost")}
	default:
		return out, unsupported(field, p)
	}
	if err := out.Validate(); err != nil {
		return out, status.Errorf(codes.InvalidArgument, "%s: %v", field, err)
	}
	return out, nil
}
