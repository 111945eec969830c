// Invokes every demo function in a burst of random size, asynchronously, so that Lambda sometimes needs extra
// execution environments (which later spin down).
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

const lambda = new LambdaClient({});
const targets = JSON.parse(process.env.DEMO_TARGETS ?? '[]');
const maxBurst = Math.min(Math.max(Number(process.env.DEMO_MAX_BURST ?? '4'), 1), 20);

export const handler = async () => {
  const invokes = [];
  for (const functionName of targets) {
    const burst = 1 + Math.floor(Math.random() * maxBurst);
    for (let n = 0; n < burst; n++) {
      invokes.push(
        lambda.send(
          new InvokeCommand({
            FunctionName: functionName,
            InvocationType: 'Event',
            Payload: JSON.stringify({ n }),
          }),
        ),
      );
    }
  }
  const results = await Promise.allSettled(invokes);
  const failed = results.filter((result) => result.status === 'rejected').length;
  return { invoked: results.length - failed, failed };
};
