//go:build tools

// Package tools pins kube-apiserver in this tool module's go.mod.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
