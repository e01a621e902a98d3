//go:build linux

package criserver

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/podkit/podkit/examples/internal/image"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// PullImage pulls an image into the store (through the configured
// mirrors) and returns its ID.
func (s *Server) PullImage(ctx context.Context, req *runtimeapi.PullImageRequest) (*runtimeapi.PullImageResponse, error) {
	ref := req.GetImage().GetImage()
	if ref == "" {
		return nil, status.Error(codes.InvalidArgument, "image.image: empty reference")
	}
	if a := req.GetAuth(); a != nil && (a.Username != "" || a.Password != "" || a.Auth != "" || a.IdentityToken != "" || a.RegistryToken != "") {
		return nil, unsupported("auth", "(credentials come from the Docker config file)")
	}
	img, err := s.images.Pull(ctx, ref)
	if err != nil {
		return nil, imageError("PullImage", err)
	}
	s.log.Info("pulled", "image", ref, "id", img.ID)
	return &runtimeapi.PullImageResponse{ImageRef: img.ID}, nil
}

// ImageStatus returns an image's record, or no image when the store has
// none by that name.
func (s *Server) ImageStatus(ctx context.Context, req *runtimeapi.ImageStatusRequest) (*runtimeapi.ImageStatusResponse, error) {
	img, err := s.images.Status(req.GetImage().GetImage())
	if errors.Is(err, image.ErrNotFound) {
		return &runtimeapi.ImageStatusResponse{}, nil
	}
	if err != nil {
		return nil, imageError("ImageStatus", err)
	}
	ci, err := s.criImage(img)
	if err != nil {
		return nil, imageError("ImageStatus", err)
	}
	return &runtimeapi.ImageStatusResponse{Image: ci}, nil
}

// ListImages lists the store's images, or those matching filter.image.
func (s *Server) ListImages(ctx context.Context, req *runtimeapi.ListImagesRequest) (*runtimeapi.ListImagesResponse, error) {
	var imgs []image.Image
	if ref := req.GetFilter().GetImage().GetImage(); ref != "" {
		img, err := s.images.Status(ref)
		if errors.Is(err, image.ErrNotFound) {
			return &runtimeapi.ListImagesResponse{}, nil
		}
		if err != nil {
			return nil, imageError("ListImages", err)
		}
		imgs = []image.Image{*img}
	} else {
		var err error
		if imgs, err = s.images.List(); err != nil {
			return nil, imageError("ListImages", err)
		}
	}
	out := make([]*runtimeapi.Image, 0, len(imgs))
	for i := range imgs {
		ci, err := s.criImage(&imgs[i])
		if err != nil {
			return nil, imageError("ListImages", err)
		}
		out = append(out, ci)
	}
	return &runtimeapi.ListImagesResponse{Images: out}, nil
}

// RemoveImage removes the image a reference names, with all its tags and
// digests, as the CRI asks. Removing an image that is not there succeeds.
func (s *Server) RemoveImage(ctx context.Context, req *runtimeapi.RemoveImageRequest) (*runtimeapi.RemoveImageResponse, error) {
	img, err := s.images.Status(req.GetImage().GetImage())
	if err == nil {
		err = s.images.Remove(img.ID)
	}
	if err != nil && !errors.Is(err, image.ErrNotFound) {
		return nil, imageError("RemoveImage", err)
	}
	return &runtimeapi.RemoveImageResponse{}, nil
}

// ImageFsInfo reports the image store's disk use. The CRI client asks it
// before anything else.
func (s *Server) ImageFsInfo(ctx context.Context, req *runtimeapi.ImageFsInfoRequest) (*runtimeapi.ImageFsInfoResponse, error) {
	u, err := s.images.Usage()
	if err != nil {
		return nil, imageError("ImageFsInfo", err)
	}
	usage := &runtimeapi.FilesystemUsage{
		Timestamp:  time.Now().UnixNano(),
		FsId:       &runtimeapi.FilesystemIdentifier{Mountpoint: u.Root},
		UsedBytes:  &runtimeapi.UInt64Value{Value: u.Bytes},
		InodesUsed: &runtimeapi.UInt64Value{Value: u.Inodes},
	}
	return &runtimeapi.ImageFsInfoResponse{ImageFilesystems: []*runtimeapi.FilesystemUsage{usage}}, nil
}

// criImage is img as the CRI describes it; the image's USER gives the uid
// when numeric, else the user name.
func (s *Server) criImage(img *image.Image) (*runtimeapi.Image, error) {
	cf, err := s.images.Config(img.ID)
	if err != nil {
		return nil, err
	}
	ci := &runtimeapi.Image{Id: img.ID, RepoTags: img.RepoTags, RepoDigests: img.RepoDigests,
		Size: uint64(img.Size), Spec: &runtimeapi.ImageSpec{Image: img.ID}}
	user, _, _ := strings.Cut(cf.Config.User, ":")
	if uid, err := strconv.ParseInt(user, 10, 64); err == nil {
		ci.Uid = &runtimeapi.Int64Value{Value: uid}
	} else {
		ci.Username = user
	}
	return ci, nil
}

// imageError maps the image store's errors to gRPC codes.
func imageError(op string, err error) error {
	code := codes.Internal
	switch {
	case errors.Is(err, image.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, image.ErrBadReference), errors.Is(err, image.ErrBadConfig), errors.Is(err, image.ErrUnknownUser):
		code = codes.InvalidArgument
	case errors.Is(err, image.ErrRegistry):
		code = codes.Unavailable
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	return status.Errorf(code, "%s: %v", op, err)
}
