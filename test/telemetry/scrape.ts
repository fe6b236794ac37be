import type { Registry } from 'prom-client';

/** One sample of a scrape, with its full name (histogram parts included). */
export interface ScrapedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every sample the registry has, through prom-client's own JSON output. */
export async function scrape(registry: Registry): Promise<ScrapedSample[]> {
  return (await registry.getMetricsAsJSON()).flatMap((family) =>
    family.values.map((v) => ({
      name: (v as { metricName?: string }).metricName ?? family.name,
      labels: Object.fromEntries(Object.entries(v.labels).map(([k, l]) => [k, String(l)])),
      value: v.value,
    })),
  );
}

/** The samples named `name` whose labels include `labels`. */
export function matching(
  samples: ScrapedSample[],
  name: string,
  labels: Record<string, string> = {},
): ScrapedSample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([key, wanted]) => s.labels[key] === wanted),
  );
}

/** The sum of the values of the samples `matching` finds (0 when none). */
export function total(samples: ScrapedSample[], name: string, labels: Record<string, string> = {}): number {
  return matching(samples, name, labels).reduce((sum, s) => sum + s.value, 0);
}
