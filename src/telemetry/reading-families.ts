import type { Registry, RegistryContentType } from 'prom-client';
import type { RetryBudgetReadout, ServiceReadings } from '../core/service-readings.js';
import { registerScraped, type Sample } from './scraped-metric.js';
import type { ServiceStats } from './service-stats.js';

/** What the services' layers publish (see `ServiceReadings`), one entry per live mesh service. */
function* readingsOf(service: ServiceStats): Generator<ServiceReadings> {
  for (const handle of service.handles) yield handle.readings;
}

/** The distinct retry budgets of a service (meshes sharing one `RetryBudget` count it once). */
function budgetsOf(service: ServiceStats): Set<RetryBudgetReadout> {
  const budgets = new Set<RetryBudgetReadout>();
  for (const readings of readingsOf(service))
    if (readings.retryBudget !== undefined) budgets.add(readings.retryBudget);
  return budgets;
}

/** The rule-set counts of the route layers of a service, summed over the meshes that build it. */
function ruleUpdates(
  service: ServiceStats,
): { applied: number; rejected: number; version: number } | undefined {
  let found: { applied: number; rejected: number; version: number } | undefined;
  for (const { rules } of readingsOf(service)) {
    if (rules === undefined) continue;
    found ??= { applied: 0, rejected: 0, version: 0 };
    found.applied += rules.applied;
    found.rejected += rules.rejected;
    found.version = Math.max(found.version, rules.version);
  }
  return found;
}

/**
 * Registers the families read from what the layers publish of their state at scrape time: the
 * retry budget and the routing rules in force (see the README's metrics table). The layers keep
 * these numbers themselves, so the registry's reset leaves them as they are.
 */
export function registerReadingFamilies(
  registry: Registry<RegistryContentType>,
  prefix: string,
  services: ReadonlyMap<string, ServiceStats>,
): void {
  const all = () => services.values();
  const keptByLayers = () => {};
  const budgetGauge = (name: string, help: string, value: (budget: RetryBudgetReadout) => number) =>
    registerScraped(registry, {
      name: `${prefix}${name}`,
      help,
      type: 'gauge',
      labelNames: ['service'],
      collect: (out: Sample[]) => {
        for (const s of all()) {
          const budgets = budgetsOf(s);
          if (budgets.size === 0) continue;
          let sum = 0;
          for (const budget of budgets) sum += value(budget);
          out.push({ labels: { service: s.name }, value: sum });
        }
      },
      reset: keptByLayers,
    });
  budgetGauge('retry_budget_left', 'Retries the retry budget allows right now (0 when spent).', (budget) =>
    budget.left(),
  );
  budgetGauge(
    'retry_budget_capacity',
    "Retries the retry budget allows over its window: its floor plus its share of the window's requests.",
    (budget) => budget.capacity(),
  );
  registerScraped(registry, {
    name: `${prefix}routing_rules_version`,
    help: 'Version of the routing rules in force (the etcd revision for etcd rules, else a count of rule sets applied).',
    type: 'gauge',
    labelNames: ['service'],
    collect: (out) => {
      for (const s of all()) {
        const updates = ruleUpdates(s);
        if (updates !== undefined) out.push({ labels: { service: s.name }, value: updates.version });
      }
    },
    reset: keptByLayers,
  });
  registerScraped(registry, {
    name: `${prefix}routing_rule_updates_total`,
    help: 'Routing rule sets put in force (outcome applied, the first one included) and updates rejected.',
    type: 'counter',
    labelNames: ['service', 'outcome'],
    collect: (out) => {
      for (const s of all()) {
        const updates = ruleUpdates(s);
        if (updates === undefined) continue;
        out.push({ labels: { service: s.name, outcome: 'applied' }, value: updates.applied });
        out.push({ labels: { service: s.name, outcome: 'rejected' }, value: updates.rejected });
      }
    },
    reset: keptByLayers,
  });
}
