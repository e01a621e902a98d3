// Package kubeapi declares the part of Kubernetes' core/v1 API that a
// podrun manifest is decoded into: Pod, ConfigMap and Secret, and the
// types they reach.
//
// Every JSON field name of those Kubernetes types is declared, so a
// document decodes here exactly where it decodes into k8s.io/api's types.
// The fields podrun acts on have their Kubernetes types; every other
// field is declared as an untyped value (any, or *any where Kubernetes'
// field is a pointer, so that an explicit 0, "" or false counts as set
// exactly where it does there) that the manifest package's field check
// reports as unsupported, or ignores with a warning, by its path. Resource quantities (Quantity), int-or-string ports (IntOrString)
// and the name rules the manifest checks (validation.go) are podkit's own
// implementations of Kubernetes' formats.
//
// Why not k8s.io/api itself: its packages and apimachinery's cost a fresh
// podrun process about 1.4 ms of start-up (package initialisation and the
// page faults of a larger binary), a tenth of a whole one-container pod's
// run. The package's tests compare every declared type with k8s.io/api's,
// field by field, and the quantity and name rules with apimachinery's.
package kubeapi
