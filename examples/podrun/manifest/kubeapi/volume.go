package kubeapi

// Volume is an entry of spec.volumes.
type Volume struct {
	Name         string `json:"name"`
	VolumeSource `json:",inline"`
}

// VolumeSource is a volume's kind: the types podrun makes, and every
// other one untyped.
type VolumeSource struct {
	HostPath              *HostPathVolumeSource    `json:"hostPath,omitempty"`
	EmptyDir              *EmptyDirVolumeSource    `json:"emptyDir,omitempty"`
	GCEPersistentDisk     *any                     `json:"gcePersistentDisk,omitempty"`
	AWSElasticBlockStore  *any                     `json:"awsElasticBlockStore,omitempty"`
	GitRepo               *any                     `json:"gitRepo,omitempty"`
	Secret                *SecretVolumeSource      `json:"secret,omitempty"`
	NFS                   *any                     `json:"nfs,omitempty"`
	ISCSI                 *any                     `json:"iscsi,omitempty"`
	Glusterfs             *any                     `json:"glusterfs,omitempty"`
	PersistentVolumeClaim *any                     `json:"persistentVolumeClaim,omitempty"`
	RBD                   *any                     `json:"rbd,omitempty"`
	FlexVolume            *any                     `json:"flexVolume,omitempty"`
	Cinder                *any                     `json:"cinder,omitempty"`
	CephFS                *any                     `json:"cephfs,omitempty"`
	Flocker               *any                     `json:"flocker,omitempty"`
	DownwardAPI           *DownwardAPIVolumeSource `json:"downwardAPI,omitempty"`
	FC                    *any                     `json:"fc,omitempty"`
	AzureFile             *any                     `json:"azureFile,omitempty"`
	ConfigMap             *ConfigMapVolumeSource   `json:"configMap,omitempty"`
	VsphereVolume         *any                     `json:"vsphereVolume,omitempty"`
	Quobyte               *any                     `json:"quobyte,omitempty"`
	AzureDisk             *any                     `json:"azureDisk,omitempty"`
	PhotonPersistentDisk  *any                     `json:"photonPersistentDisk,omitempty"`
	Projected             *any                     `json:"projected,omitempty"`
	PortworxVolume        *any                     `json:"portworxVolume,omitempty"`
	ScaleIO               *any                     `json:"scaleIO,omitempty"`
	StorageOS             *any                     `json:"storageos,omitempty"`
	CSI                   *any                     `json:"csi,omitempty"`
	Ephemeral             *any                     `json:"ephemeral,omitempty"`
	Image                 *any                     `json:"image,omitempty"`
}

// HostPathType is a hostPath volume's type.
type HostPathType string

// The hostPath types podrun checks.
const (
	HostPathUnset     HostPathType = ""
	HostPathDirectory HostPathType = "Directory"
	HostPathFile      HostPathType = "File"
)

// HostPathVolumeSource is a hostPath volume.
type HostPathVolumeSource struct {
	Path string        `json:"path"`
	Type *HostPathType `json:"type,omitempty"`
}

// StorageMedium is an emptyDir's medium.
type StorageMedium string

// The emptyDir media.
const (
	StorageMediumDefault StorageMedium = ""
	StorageMediumMemory  StorageMedium = "Memory"
)

// EmptyDirVolumeSource is an emptyDir volume.
type EmptyDirVolumeSource struct {
	Medium    StorageMedium `json:"medium,omitempty"`
	SizeLimit *Quantity     `json:"sizeLimit,omitempty"`
	Mode      *any          `json:"mode,omitempty"`
}

// KeyToPath projects one key of a ConfigMap or Secret to a file.
type KeyToPath struct {
	Key  string `json:"key"`
	Path string `json:"path"`
	Mode *int32 `json:"mode,omitempty"`
	User *any   `json:"user,omitempty"`
}

// SecretVolumeSource is a secret volume.
type SecretVolumeSource struct {
	SecretName  string      `json:"secretName,omitempty"`
	Items       []KeyToPath `json:"items,omitempty"`
	DefaultMode *int32      `json:"defaultMode,omitempty"`
	Optional    *bool       `json:"optional,omitempty"`
	DefaultUser *any        `json:"defaultUser,omitempty"`
}

// ConfigMapVolumeSource is a configMap volume.
type ConfigMapVolumeSource struct {
	LocalObjectReference `json:",inline"`
	Items                []KeyToPath `json:"items,omitempty"`
	DefaultMode          *int32      `json:"defaultMode,omitempty"`
	Optional             *bool       `json:"optional,omitempty"`
	DefaultUser          *any        `json:"defaultUser,omitempty"`
}

// DownwardAPIVolumeSource is a downwardAPI volume.
type DownwardAPIVolumeSource struct {
	Items       []DownwardAPIVolumeFile `json:"items,omitempty"`
	DefaultMode *int32                  `json:"defaultMode,omitempty"`
	DefaultUser *any                    `json:"defaultUser,omitempty"`
}

// DownwardAPIVolumeFile is one file of a downwardAPI volume.
type DownwardAPIVolumeFile struct {
	Path             string                 `json:"path"`
	FieldRef         *ObjectFieldSelector   `json:"fieldRef,omitempty"`
	ResourceFieldRef *ResourceFieldSelector `json:"resourceFieldRef,omitempty"`
	Mode             *int32                 `json:"mode,omitempty"`
	User             *any                   `json:"user,omitempty"`
}
