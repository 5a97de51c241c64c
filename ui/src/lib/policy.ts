/** The policy table groups `session.ttl`, `session.idle_timeout`, … under their prefix. */
import type { PolicyEntry } from './backend/generated';

export interface PolicyGroup {
  name: string;
  entries: { key: string; name: string; value: string }[];
}

export function groupPolicy(entries: readonly PolicyEntry[]): PolicyGroup[] {
  const groups = new Map<string, PolicyGroup>();
  for (const e of entries) {
    const dot = e.key.indexOf('.');
    const group = dot > 0 ? e.key.slice(0, dot) : 'general';
    const name = dot > 0 ? e.key.slice(dot + 1) : e.key;
    let g = groups.get(group);
    if (!g) {
      g = { name: group, entries: [] };
      groups.set(group, g);
    }
    g.entries.push({ key: e.key, name, value: e.value });
  }
  return [...groups.values()];
}
