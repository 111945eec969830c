// One handler, four behaviours (DEMO_BEHAVIOUR), chosen so that together they produce every shutdown reason:
// idle environments spin down (spindown), flaky-timeout overruns its timeout (timeout), crashy kills its runtime
// (failure).

const behaviour = process.env.DEMO_BEHAVIOUR ?? 'fast';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const chance = (probability) => Math.random() < probability;

export const handler = async (event, context) => {
  switch (behaviour) {
    case 'fast':
      await sleep(10);
      break;
    case 'slow':
      await sleep(1000 + Math.random() * 3000);
      break;
    case 'flaky-timeout':
      // Sleeping past the remaining time makes Lambda reset the environment with reason "timeout".
      await sleep(chance(0.3) ? context.getRemainingTimeInMillis() + 1000 : 200);
      break;
    case 'crashy':
      if (chance(0.2)) {
        // Exiting the runtime process makes Lambda reset the environment with reason "failure".
        process.exit(1);
      }
      if (chance(0.2)) throw new Error('crashy: a handled error (no reset)');
      await sleep(50);
      break;
    default:
      throw new Error(`unknown DEMO_BEHAVIOUR "${behaviour}"`);
  }
  return { behaviour, requestId: context.awsRequestId, input: event?.n ?? null };
};
