// pulumi-resource-aws for esc-sync's test suite: the upstream Terraform AWS provider's logic
// (hashicorp/terraform-provider-aws, cut by build.sh to the secretsmanager and ssm service
// packages) served through the real Pulumi Terraform bridge. It is NOT pulumi-aws's release:
// pulumi-aws's own patches, schema overrides and embedded schema are absent. Only the three
// resources and the two data sources esc-sync's AWS programs use are mapped, to the tokens @pulumi/aws 7.48.0 sends
// (see node_modules/@pulumi/aws/secretsmanager/secret.js, secretVersion.js, getSecret.js, getSecretVersions.js,
// ssm/parameter.js).
package main

import (
	"context"
	_ "embed"

	"github.com/hashicorp/terraform-provider-aws/escsyncshim"
	pftfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/x/muxer"
	"github.com/pulumi/pulumi-terraform-bridge/v3/unstable/metadata"
)

// The plugin version the CLI installs it as (`pulumi plugin install resource aws 7.48.0 --file`),
// the version @pulumi/aws 7.48.0 asks for.
const version = "7.48.0"

// A minimal Pulumi package schema: the engine does not need one to register resources from the
// Node SDK; it is what GetSchema answers.
//
//go:embed schema.json
var schema []byte

func main() {
	ctx := context.Background()
	sdkProvider, frameworkProvider, err := escsyncshim.NewProviders(ctx)
	if err != nil {
		panic(err)
	}
	info := tfbridge.ProviderInfo{
		// Both halves, muxed as pulumi-aws does (provider/resources.go: MuxShimWithDisjointgPF).
		P:           pftfbridge.MuxShimWithDisjointgPF(ctx, shimv2.NewProvider(sdkProvider), frameworkProvider),
		Name:        "aws",
		Version:     version,
		Description: "esc-sync test build: upstream terraform-provider-aws (secretsmanager, ssm) through pulumi-terraform-bridge",
		Config: map[string]*tfbridge.SchemaInfo{
			// As pulumi-aws does: the region may come from the environment.
			"region": {Default: &tfbridge.DefaultInfo{EnvVars: []string{"AWS_REGION", "AWS_DEFAULT_REGION"}}},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"aws_secretsmanager_secret":         {Tok: "aws:secretsmanager/secret:Secret"},
			"aws_secretsmanager_secret_version": {Tok: "aws:secretsmanager/secretVersion:SecretVersion"},
			"aws_ssm_parameter":                 {Tok: "aws:ssm/parameter:Parameter"},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			// migrate adopt looks up a secret's ARN and its versions' ids and labels (never a value).
			"aws_secretsmanager_secret":          {Tok: "aws:secretsmanager/getSecret:getSecret"},
			"aws_secretsmanager_secret_versions": {Tok: "aws:secretsmanager/getSecretVersions:getSecretVersions"},
		},
	}
	// Which half serves which token: pulumi-aws computes this at build time (tfgen writes it into
	// bridge-metadata.json); here it is computed at start from the mappings above.
	info.MetadataInfo = tfbridge.NewProviderMetadata([]byte("{}"))
	dispatch, err := info.P.(interface {
		ResolveDispatch(*tfbridge.ProviderInfo) (muxer.DispatchTable, error)
	}).ResolveDispatch(&info)
	if err != nil {
		panic(err)
	}
	if err := metadata.Set(info.GetMetadata(), "mux", dispatch); err != nil {
		panic(err)
	}
	pftfbridge.MainWithMuxer(ctx, "aws", info, schema)
}
