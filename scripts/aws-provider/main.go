// pulumi-resource-aws for esc-sync's test suite: the upstream Terraform AWS provider's logic
// (hashicorp/terraform-provider-aws, cut by build.sh to the secretsmanager and ssm service
// packages) served through the real Pulumi Terraform bridge. It is NOT pulumi-aws's release:
// pulumi-aws's own patches, schema overrides and embedded schema are absent. Only the three
// resources and the one data source esc-sync's AWS programs use are mapped, to the tokens @pulumi/aws 7.48.0 sends
// (see node_modules/@pulumi/aws/secretsmanager/secret.js, secretVersion.js, getSecretVersions.js, ssm/parameter.js).
package main

import (
	"context"
	_ "embed"

	"github.com/hashicorp/terraform-provider-aws/escsyncshim"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
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
	upstream, err := escsyncshim.NewProvider(context.Background())
	if err != nil {
		panic(err)
	}
	info := tfbridge.ProviderInfo{
		P:           shimv2.NewProvider(upstream),
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
			// migrate adopt lists a secret's version ids and labels (never values) with it.
			"aws_secretsmanager_secret_versions": {Tok: "aws:secretsmanager/getSecretVersions:getSecretVersions"},
		},
	}
	tfbridge.Main("aws", version, info, schema)
}
