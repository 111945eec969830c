import { runExtension } from './main.ts';

// Process entry of the layer bundle: everything else is importable without side effects.
runExtension({
  env: process.env,
  processHandlers: true,
  onDeadline: (code) => process.exit(code),
}).then(
  (code) => process.exit(code),
  () => process.exit(1),
);
