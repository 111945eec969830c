import { planHistory, writeHistory } from './history-data.ts';
const size = Number(process.argv[2]);
const path = process.argv[3]!;
const t = performance.now();
console.log(await writeHistory(path, planHistory(size, Date.now())), (performance.now() - t) / 1000);
