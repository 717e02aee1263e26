// The Kubernetes API server, as k8s.io/kubernetes/cmd/kube-apiserver builds it (the same imports
// and main), for the test suite's Kubernetes end-to-end tests: the API server and etcd, no kubelet
// and no controllers.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
