import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { Construct } from 'constructs';
import { CollectorService, type CollectorServiceProps } from './collector-service.ts';

/** Props of {@link CollectorStack}. */
export interface CollectorStackProps extends StackProps {
  /** Props of the collector. @default CollectorService's defaults */
  readonly collector?: CollectorServiceProps;
  /** ARN of an ACM certificate to serve HTTPS with. Mutually exclusive with `collector.certificate`. */
  readonly certificateArn?: string;
}

/** A stack holding one {@link CollectorService}, with its URLs, token secret and instance as outputs. */
export class CollectorStack extends Stack {
  /** The collector. */
  readonly collector: CollectorService;

  constructor(scope: Construct, id: string, props: CollectorStackProps = {}) {
    super(scope, id, props);
    if (props.certificateArn !== undefined && props.collector?.certificate !== undefined) {
      throw new Error(
        'CollectorStack takes certificateArn or collector.certificate, not both: pass only one.',
      );
    }
    const certificate =
      props.certificateArn === undefined
        ? props.collector?.certificate
        : Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn);
    this.collector = new CollectorService(this, 'Collector', { ...props.collector, certificate });
    const { collector } = this;
    new CfnOutput(this, 'DashboardUrl', {
      description: 'Open in a browser',
      value: collector.dashboardUrl,
    });
    new CfnOutput(this, 'CollectorUrl', {
      description: 'Value for LIFELINE_COLLECTOR_URL',
      value: collector.collectorUrl,
    });
    new CfnOutput(this, 'IngestUrl', {
      description: 'Where the extension posts event batches',
      value: collector.ingestUrl,
    });
    new CfnOutput(this, 'TokenSecretArn', {
      description: 'Secrets Manager secret holding the ingest token (LIFELINE_TOKEN)',
      value: collector.tokenSecret.secretArn,
    });
    if (collector.readTokenSecret !== undefined) {
      new CfnOutput(this, 'ReadTokenSecretArn', {
        description:
          'Secrets Manager secret holding the dashboard read token (LIFELINE_READ_TOKEN)',
        value: collector.readTokenSecret.secretArn,
      });
    }
    new CfnOutput(this, 'InstanceId', {
      description: 'Shell access: aws ssm start-session --target <InstanceId>',
      value: collector.instance.instanceId,
    });
  }
}
