// Package escsyncshim exports the upstream provider's internal constructor. It is copied into the
// terraform-provider-aws module by scripts/aws-provider/build.sh: Go's internal rule is about
// import paths, so a package under github.com/hashicorp/terraform-provider-aws/ may import
// .../internal/provider/sdkv2 (pulumi-aws does the same in provider/shim).
package escsyncshim

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-provider-aws/internal"
	"github.com/hashicorp/terraform-provider-aws/internal/provider/framework"
	"github.com/hashicorp/terraform-provider-aws/internal/provider/sdkv2"
)

// NewProviders returns the two halves the upstream provider muxes (internal/provider/factory.go):
// the SDKv2 provider (aws_secretsmanager_secret, aws_secretsmanager_secret_version,
// aws_ssm_parameter) and the plugin-framework one (data source aws_secretsmanager_secret_versions),
// which shares the SDKv2 provider's configured clients.
func NewProviders(ctx context.Context) (*schema.Provider, provider.Provider, error) {
	internal.RegisterSmarterrFS()
	primary, err := sdkv2.NewProvider(ctx)
	if err != nil {
		return nil, nil, err
	}
	secondary, err := framework.NewProvider(ctx, primary)
	if err != nil {
		return nil, nil, err
	}
	return primary, secondary, nil
}
