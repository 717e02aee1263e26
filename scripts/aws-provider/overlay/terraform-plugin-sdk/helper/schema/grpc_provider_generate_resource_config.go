package schema

import (
	"context"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
)

// GenerateResourceConfig is added by esc-sync's scripts/aws-provider/build.sh: the bridge's fork
// of the plugin SDK predates terraform-plugin-go v0.31.0, whose tfprotov5.ProviderServer wants
// it. Terraform calls it for `terraform plan -generate-config-out`; the Pulumi bridge never does.
func (s *GRPCProviderServer) GenerateResourceConfig(ctx context.Context, req *tfprotov5.GenerateResourceConfigRequest) (*tfprotov5.GenerateResourceConfigResponse, error) {
	return &tfprotov5.GenerateResourceConfigResponse{}, nil
}
