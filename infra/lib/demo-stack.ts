import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaTarget } from 'aws-cdk-lib/aws-events-targets';
import { Architecture, Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { Lifeline, type LifelineLogLevel } from './lifeline.ts';
import type { LifelineToken } from './lifeline-token.ts';
import { DEMO_FUNCTIONS_DIR } from './paths.ts';

/** The demo functions' behaviours; together they produce every shutdown reason. */
export const DEMO_BEHAVIOURS = {
  /** Returns at once; its environments end by spindown. */
  fast: { timeout: Duration.seconds(5) },
  /** Takes 1-4 s; bursts need extra environments, which later spin down. */
  slow: { timeout: Duration.seconds(10) },
  /** Overruns its 3 s timeout 30 % of the time: shutdown reason `timeout`. */
  'flaky-timeout': { timeout: Duration.seconds(3) },
  /** Exits its runtime 20 % of the time: shutdown reason `failure`. */
  crashy: { timeout: Duration.seconds(5) },
} as const;

/** Props of {@link DemoStack}. */
export interface DemoStackProps extends StackProps {
  /** Base URL of the collector (`LIFELINE_COLLECTOR_URL`). */
  readonly collectorUrl: string;
  /** Where the demo functions' ingest token comes from. */
  readonly token: LifelineToken;
  /** Build the layer from this directory. Mutually exclusive with `layerVersionArn`. */
  readonly layerDir?: string;
  /** Use a published Lifeline layer instead of building one. */
  readonly layerVersionArn?: string;
  /** Invoke the demo functions on a schedule. @default true */
  readonly scheduled?: boolean;
  /** @default 2 minutes */
  readonly interval?: Duration;
  /** The extension's log level in the demo functions. @default the extension's default */
  readonly logLevel?: LifelineLogLevel;
}

/**
 * Demo functions with Lifeline attached (fast, slow, sometimes timing out, sometimes crashing) and a driver that an
 * EventBridge schedule runs to invoke them in bursts.
 */
export class DemoStack extends Stack {
  /** The demo functions, by behaviour. */
  readonly functions: Readonly<Record<keyof typeof DEMO_BEHAVIOURS, LambdaFunction>>;
  /** The function the schedule runs; it invokes the demo functions in bursts. */
  readonly driver: LambdaFunction;
  /** The Lifeline attaching the layer to every function of the stack. */
  readonly lifeline: Lifeline;

  constructor(scope: Construct, id: string, props: DemoStackProps) {
    super(scope, id, props);
    const code = Code.fromAsset(DEMO_FUNCTIONS_DIR);

    const functions: Partial<Record<keyof typeof DEMO_BEHAVIOURS, LambdaFunction>> = {};
    for (const [behaviour, { timeout }] of Object.entries(DEMO_BEHAVIOURS)) {
      functions[behaviour as keyof typeof DEMO_BEHAVIOURS] = new LambdaFunction(
        this,
        `Demo-${behaviour}`,
        {
          description: `Lifeline demo: ${behaviour}`,
          runtime: Runtime.NODEJS_22_X,
          architecture: Architecture.ARM_64,
          handler: 'behaviours.handler',
          code,
          timeout,
          memorySize: 256,
          environment: { DEMO_BEHAVIOUR: behaviour },
          // The driver invokes asynchronously; Lambda's retries would blur which invoke did what.
          retryAttempts: 0,
          logGroup: this.logGroup(`Demo-${behaviour}`),
        },
      );
    }
    this.functions = functions as Record<keyof typeof DEMO_BEHAVIOURS, LambdaFunction>;

    const targets = Object.values(this.functions);
    this.driver = new LambdaFunction(this, 'Driver', {
      description: 'Lifeline demo: invokes the demo functions in bursts',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      handler: 'driver.handler',
      code,
      timeout: Duration.seconds(30),
      environment: {
        DEMO_TARGETS: Stack.of(this).toJsonString(targets.map((fn) => fn.functionName)),
      },
      retryAttempts: 0,
      logGroup: this.logGroup('Driver'),
    });
    for (const fn of targets) fn.grantInvoke(this.driver);

    new Rule(this, 'Schedule', {
      description: 'Drives the Lifeline demo functions',
      schedule: Schedule.rate(props.interval ?? Duration.minutes(2)),
      enabled: props.scheduled ?? true,
      targets: [new LambdaTarget(this.driver, { retryAttempts: 0 })],
    });

    this.lifeline = new Lifeline(this, 'Lifeline', {
      collectorUrl: props.collectorUrl,
      token: props.token,
      layerDir: props.layerDir,
      layerVersionArn: props.layerVersionArn,
      logLevel: props.logLevel,
    });
  }

  private logGroup(id: string): LogGroup {
    return new LogGroup(this, `${id}Logs`, {
      retention: RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
