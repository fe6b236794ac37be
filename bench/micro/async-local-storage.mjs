// What enabling AsyncLocalStorage (as the inbound-deadline server helpers do) costs every await.
// Run: node bench/micro/async-local-storage.mjs
import { AsyncLocalStorage } from 'node:async_hooks';

const N = 2_000_000;
async function work() {
  for (let i = 0; i < N; i++) await Promise.resolve(i);
}
async function time(label) {
  const s = process.cpuUsage();
  await work();
  const u = process.cpuUsage(s);
  console.log(label, (((u.user + u.system) * 1000) / N).toFixed(0), 'ns per await');
}
await time('no ALS');
await time('no ALS');
const als = new AsyncLocalStorage();
await als.run({ x: 1 }, () => time('inside ALS.run'));
await time('after ALS enabled, outside run');
