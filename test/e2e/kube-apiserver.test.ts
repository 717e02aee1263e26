/**
 * The Kubernetes test cluster itself (test/support/kube-apiserver.ts): a real kube-apiserver over
 * a real etcd on loopback. What later Kubernetes tests rely on is checked here with a plain HTTPS
 * client: Secrets are stored and read back by value, RBAC refuses a user without a binding and
 * grants one with a namespaced Role, a server-side dry run accepts a valid CronJob and refuses a
 * broken one without storing either, and stop() leaves no process and no folder.
 */
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKube, type Kube } from "../support/kube-apiserver.js";

const SECRET = "canary-kube-fixture-value-3b9e";
const READER = { name: "reader", token: "reader-token-9f2c" };

const cronJob = (schedule: string) => ({
  apiVersion: "batch/v1",
  kind: "CronJob",
  metadata: { name: "esc-sync-drift" },
  spec: {
    schedule,
    jobTemplate: { spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "esc-sync", image: "esc-sync:test", args: ["drift"] }] } } } },
  },
});

describe("the Kubernetes test cluster", () => {
  let kube: Kube;
  beforeAll(async () => {
    kube = await startKube({ users: [READER] });
  }, 180_000);
  afterAll(async () => {
    await kube?.stop();
  });

  it("stores a Secret and gives it back by value", async () => {
    expect((await kube.request("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } })).status).toBe(201);
    const created = await kube.request("POST", "/api/v1/namespaces/apps/secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "payments" },
      stringData: { TOKEN: SECRET },
    });
    expect(created.status).toBe(201);
    const read = await kube.request("GET", "/api/v1/namespaces/apps/secrets/payments");
    expect(read.status).toBe(200);
    expect(Buffer.from(read.body.data.TOKEN, "base64").toString()).toBe(SECRET);
  });

  it("enforces RBAC: no binding is a 403, a namespaced Role grants exactly its verbs", async () => {
    const path = "/api/v1/namespaces/apps/secrets/payments";
    expect((await kube.request("GET", path, undefined, { token: READER.token })).status).toBe(403);
    const role = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "secret-reader", namespace: "apps" }, rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }] };
    const binding = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "secret-reader", namespace: "apps" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "secret-reader" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: READER.name }],
    };
    expect((await kube.request("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/apps/roles", role)).status).toBe(201);
    expect((await kube.request("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/apps/rolebindings", binding)).status).toBe(201);
    // The RBAC authorizer reads bindings through an informer: a new binding is seen within moments.
    let granted = 0;
    for (let i = 0; i < 100 && granted !== 200; i++) {
      granted = (await kube.request("GET", path, undefined, { token: READER.token })).status;
      if (granted !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(granted).toBe(200);
    expect((await kube.request("DELETE", path, undefined, { token: READER.token })).status).toBe(403);
    expect((await kube.request("GET", "/api/v1/namespaces/default/secrets", undefined, { token: READER.token })).status).toBe(403);
  });

  it("checks objects with a server-side dry run and stores none of them", async () => {
    const good = await kube.request("POST", "/apis/batch/v1/namespaces/apps/cronjobs?dryRun=All", cronJob("*/15 * * * *"));
    expect(good.status).toBe(201);
    const bad = await kube.request("POST", "/apis/batch/v1/namespaces/apps/cronjobs?dryRun=All", cronJob("every quarter hour"));
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain("spec.schedule");
    const list = await kube.request("GET", "/apis/batch/v1/namespaces/apps/cronjobs");
    expect(list.body.items).toEqual([]);
  });

  it("stop() ends etcd and the API server and removes the cluster's folder", async () => {
    const other = await startKube();
    const folder = dirname(other.kubeconfig);
    expect(existsSync(folder)).toBe(true);
    await other.stop();
    for (const pid of other.pids) expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(folder)).toBe(false);
  }, 180_000);
});
