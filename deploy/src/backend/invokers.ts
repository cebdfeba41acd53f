import type { CloudRunClients } from '../cloud-run/clients';

export const INVOKER_ROLE = 'roles/run.invoker';

/**
 * Makes `members` the only holders of roles/run.invoker on the service (read-modify-write with
 * the policy's etag; other roles are kept). allUsers / allAuthenticatedUsers are refused: the
 * backend must never be public.
 */
export async function setInvokers(
  clients: CloudRunClients,
  resource: string,
  members: string[],
): Promise<void> {
  for (const member of members) {
    if (/^all(Authenticated)?Users$/.test(member))
      throw new Error(`--invoker: ${member} would make the backend public`);
  }
  const [policy] = await clients.services.getIamPolicy({ resource });
  const bindings = (policy.bindings ?? []).filter((binding) => binding.role !== INVOKER_ROLE);
  bindings.push({ role: INVOKER_ROLE, members: [...new Set(members)].sort() });
  await clients.services.setIamPolicy({ resource, policy: { ...policy, bindings } });
}
