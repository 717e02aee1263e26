// Package escsyncshim exports the upstream provider's internal constructor. It is copied into the
// terraform-provider-aws module by scripts/aws-provider/build.sh: Go's internal rule is about
// import paths, so a package under github.com/hashicorp/terraform-provider-aws/ may import
// .../internal/provider/sdkv2 (pulumi-aws does the same in provider/shim).
package escsyncshim

import (
	"context"

	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-provider-aws/internal"
	"github.com/hashicorp/terraform-provider-aws/internal/provider/sdkv2"
)

// NewProvider is the upstream SDKv2 provider (aws_secretsmanager_secret,
// aws_secretsmanager_secret_version and aws_ssm_parameter are SDKv2 resources, so the
// plugin-framework half of the upstream mux is not needed).
func NewProvider(ctx context.Context) (*schema.Provider, error) {
	internal.RegisterSmarterrFS()
	return sdkv2.NewProvider(ctx)
}
