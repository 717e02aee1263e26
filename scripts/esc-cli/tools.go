//go:build tools

// Package tools pins the official ESC CLI for scripts/provision.sh, which builds it from the Go
// module proxy. esc v0.25.0 requires github.com/pulumi/pulumi/pkg/v3 v3.243.0, which the proxy
// does not serve; this wrapper raises pkg/v3 and sdk/v3 to v3.260.0, which it does.
package tools

import _ "github.com/pulumi/esc/cmd/esc"
