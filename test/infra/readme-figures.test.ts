import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The README's measured figures come from bench/RESULTS.md, which every clone has: each is
// there, and each paragraph that quotes figures says so.
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const RESULTS = readFileSync(new URL('../../bench/RESULTS.md', import.meta.url), 'utf8');

/** README paragraphs that quote a measurement: a figure in µs, req/s, x, or upstream requests. */
function measuredParagraphs(): string[] {
  return README.split(/\n\s*\n/).filter((p) => /\d\s?(µs|req\/s)|\d\.\d+x\b|\d upstream\s+requests/.test(p));
}

describe('the README quotes its figures from bench/RESULTS.md', () => {
  it('points to no folder outside the repository', () => {
    expect(README).not.toMatch(/\.\.\/shared|\/work\//);
  });

  it('cites bench/RESULTS.md and a section of it in every paragraph with a figure', () => {
    const paragraphs = measuredParagraphs();
    expect(paragraphs.length).toBeGreaterThanOrEqual(3);
    for (const p of paragraphs) {
      expect(p).toContain('bench/RESULTS.md');
      const section = /bench\/RESULTS\.md\)?, "([^"]+)"/.exec(p.replace(/\s+/g, ' '))?.[1];
      expect(section, p).toBeDefined();
      expect(RESULTS.replace(/\s+/g, ' ')).toContain(section);
    }
  });

  it('every figure it quotes is in bench/RESULTS.md', () => {
    const missing: string[] = [];
    for (const p of measuredParagraphs()) {
      for (const [, figure] of p.matchAll(/(\d[\d.]*)\s?(?:µs|req\/s|x\b|upstream)/g))
        if (!RESULTS.includes(figure!)) missing.push(figure!);
    }
    expect(missing).toEqual([]);
  });
});
