/** An ESC environment's identity and its names: shared by the programs and the orchestrator. */

/** An ESC environment's identity: `org/project/name`. */
export interface EnvironmentRef {
  org: string;
  project: string;
  name: string;
}

/** `project/name`: what binding selectors match against. */
export function envId(ref: EnvironmentRef): string {
  return `${ref.project}/${ref.name}`;
}

/** `org/project/name`: how a person names an environment. */
export function envFullName(ref: EnvironmentRef): string {
  return `${ref.org}/${ref.project}/${ref.name}`;
}
