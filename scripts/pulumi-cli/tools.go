//go:build tools

// Package tools pins the Pulumi CLI for scripts/provision.sh, which builds it from the Go module
// proxy where no Pulumi download host is reachable. pkg/v3's own go.mod replaces sdk/v3 with a
// local path, so `go install` refuses it; this wrapper requires both at one version instead.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
