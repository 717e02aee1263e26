// etcd, as go.etcd.io/etcd/server/v3's etcdmain runs it, for the test suite's Kubernetes API server.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
