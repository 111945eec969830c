import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IStringParameter } from 'aws-cdk-lib/aws-ssm';

/** Environment variable the extension reads the ingest token from. */
export const TOKEN_ENV = 'LIFELINE_TOKEN';
/** Environment variable naming a Secrets Manager secret the extension reads the token from at start. */
export const TOKEN_SECRET_ARN_ENV = 'LIFELINE_TOKEN_SECRET_ARN';
/** Environment variable naming the JSON field of that secret that holds the token. */
export const TOKEN_SECRET_FIELD_ENV = 'LIFELINE_TOKEN_SECRET_FIELD';
/** Environment variable naming an SSM SecureString parameter the extension reads the token from at start. */
export const TOKEN_PARAMETER_ENV = 'LIFELINE_TOKEN_SSM_PARAMETER';

/**
 * How the token reaches a function.
 * - `deploy-time`: CloudFormation resolves it into `LIFELINE_TOKEN`. The template holds only a reference, but the
 *   function's configuration holds the value (visible to anyone allowed `lambda:GetFunctionConfiguration`).
 * - `runtime`: the function gets the secret's ARN in `LIFELINE_TOKEN_SECRET_ARN` and `secretsmanager:GetSecretValue`
 *   on it; the extension fetches the value when it first delivers, so the value is never in the template nor in the
 *   function's configuration.
 */
export type TokenResolution = 'deploy-time' | 'runtime';

/** Options of {@link LifelineToken.fromSecret}. */
export interface SecretTokenOptions {
  /** JSON field of the secret that holds the token. @default the whole secret string */
  readonly jsonField?: string;
  /** @default 'deploy-time' */
  readonly resolution?: TokenResolution;
}

/** Options of {@link LifelineToken.fromSecureStringParameterName}. */
export interface SecureStringTokenOptions {
  /** Customer-managed key that encrypts the parameter. @default the AWS-managed `aws/ssm` key */
  readonly encryptionKey?: IKey;
}

/** What a token contributes to one function: environment variables, and any grants it needs. */
export interface TokenBinding {
  readonly environment: Readonly<Record<string, string>>;
  /** Whether the value is in plain text in the template (only {@link LifelineToken.fromText}). */
  readonly plainText: boolean;
  /** Whether the extension fetches the token itself (Secrets Manager or SSM) instead of reading `LIFELINE_TOKEN`. */
  readonly resolvedAtRuntime: boolean;
  grant(fn: LambdaFunction): void;
}

/**
 * Where the Lifeline extension's ingest token (`LIFELINE_TOKEN`) comes from.
 *
 * @example
 * LifelineToken.fromSecret(collector.tokenSecret)             // dynamic reference, resolved at deploy
 * LifelineToken.fromSecret(secret, { resolution: 'runtime' }) // ARN + GetSecretValue; the extension fetches it
 * LifelineToken.fromStringParameter(param)                   // SSM String parameter, resolved at deploy
 */
export abstract class LifelineToken {
  /**
   * A Secrets Manager secret. The template only ever holds a `{{resolve:secretsmanager:…}}` reference (or, with
   * `resolution: 'runtime'`, the ARN).
   */
  static fromSecret(secret: ISecret, options: SecretTokenOptions = {}): LifelineToken {
    return new SecretToken(secret, options);
  }

  /**
   * An SSM String parameter, resolved by CloudFormation at deploy time. The template holds the parameter's name (or a
   * reference to it), never its value. For a SecureString use {@link LifelineToken.fromSecureStringParameterName}.
   */
  static fromStringParameter(parameter: IStringParameter): LifelineToken {
    return new StringParameterToken(parameter);
  }

  /**
   * An SSM SecureString parameter, by name. CloudFormation cannot resolve SecureStrings into Lambda environment
   * variables, so the function gets the name in `LIFELINE_TOKEN_SSM_PARAMETER` plus `ssm:GetParameter` on it (and
   * `kms:Decrypt` on `encryptionKey`, through SSM), and the extension fetches it with `WithDecryption`. A parameter
   * shared from another account is given by its full ARN.
   */
  static fromSecureStringParameterName(
    parameterName: string,
    options: SecureStringTokenOptions = {},
  ): LifelineToken {
    return new SecureStringToken(parameterName, options);
  }

  /** A token in plain text. It ends up in the template and the function configuration: for demos, not production. */
  static fromText(value: string): LifelineToken {
    return new TextToken(value);
  }

  /** @internal Binds the token to one function. */
  abstract bind(fn: LambdaFunction): TokenBinding;
}

class SecretToken extends LifelineToken {
  private readonly secret: ISecret;
  private readonly options: SecretTokenOptions;

  constructor(secret: ISecret, options: SecretTokenOptions) {
    super();
    this.secret = secret;
    this.options = options;
  }

  bind(): TokenBinding {
    const { secret, options } = this;
    if (options.resolution === 'runtime') {
      const environment: Record<string, string> = { [TOKEN_SECRET_ARN_ENV]: secret.secretArn };
      if (options.jsonField !== undefined) environment[TOKEN_SECRET_FIELD_ENV] = options.jsonField;
      return {
        environment,
        plainText: false,
        resolvedAtRuntime: true,
        grant: (fn) => grantGetSecretValue(secret, fn),
      };
    }
    const value =
      options.jsonField === undefined
        ? secret.secretValue
        : secret.secretValueFromJson(options.jsonField);
    return {
      // A dynamic reference: CloudFormation swaps in the value while deploying, the template never holds it.
      environment: { [TOKEN_ENV]: value.unsafeUnwrap() },
      plainText: false,
      resolvedAtRuntime: false,
      grant: () => {},
    };
  }
}

class StringParameterToken extends LifelineToken {
  private readonly parameter: IStringParameter;

  constructor(parameter: IStringParameter) {
    super();
    this.parameter = parameter;
  }

  bind(): TokenBinding {
    return {
      environment: { [TOKEN_ENV]: this.parameter.stringValue },
      plainText: false,
      resolvedAtRuntime: false,
      grant: () => {},
    };
  }
}

class SecureStringToken extends LifelineToken {
  private readonly parameterName: string;
  private readonly options: SecureStringTokenOptions;

  constructor(parameterName: string, options: SecureStringTokenOptions) {
    super();
    this.parameterName = parameterName;
    this.options = options;
    if (parameterName.trim() === '') {
      throw new Error(
        'LifelineToken.fromSecureStringParameterName needs a non-empty parameter name.',
      );
    }
  }

  bind(fn: LambdaFunction): TokenBinding {
    const { parameterName, options } = this;
    return {
      environment: { [TOKEN_PARAMETER_ENV]: parameterName },
      plainText: false,
      resolvedAtRuntime: true,
      grant: (target) => {
        const stack = Stack.of(fn);
        target.addToRolePolicy(
          new PolicyStatement({
            actions: ['ssm:GetParameter'],
            resources: [parameterArnOf(parameterName, stack)],
          }),
        );
        if (options.encryptionKey !== undefined) {
          grantDecryptVia(options.encryptionKey, 'ssm', target);
        }
      },
    };
  }
}

class TextToken extends LifelineToken {
  private readonly value: string;

  constructor(value: string) {
    super();
    this.value = value;
    if (value === '') throw new Error('LifelineToken.fromText needs a non-empty token.');
  }

  bind(): TokenBinding {
    return {
      environment: { [TOKEN_ENV]: this.value },
      plainText: true,
      resolvedAtRuntime: false,
      grant: () => {},
    };
  }
}

/**
 * Exactly what the extension's `GetSecretValue` call needs: the action on the secret (any version), and `kms:Decrypt`
 * through Secrets Manager when a customer-managed key encrypts it. No `DescribeSecret`, unlike `grantRead`.
 */
function grantGetSecretValue(secret: ISecret, grantee: LambdaFunction): void {
  grantee.addToRolePolicy(
    new PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      // A secret known by name or partial ARN gets its 6-character suffix matched, like ISecret.grantRead does.
      resources: [secret.secretFullArn ?? `${secret.secretArn}-??????`],
    }),
  );
  if (secret.encryptionKey !== undefined) {
    grantDecryptVia(secret.encryptionKey, 'secretsmanager', grantee);
  }
}

/**
 * `kms:Decrypt` on `key`, only when `service` calls KMS on the function's behalf. Written into the function's policy
 * (not through `IKey.grantDecrypt`, which drops the grant silently for an imported key with a via-service principal);
 * a key policy that delegates to IAM, as AWS and CDK keys do by default, honours it.
 */
function grantDecryptVia(key: IKey, service: string, grantee: LambdaFunction): void {
  grantee.addToRolePolicy(
    new PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [key.keyArn],
      conditions: {
        StringEquals: {
          'kms:ViaService': `${service}.${Stack.of(grantee).region}.amazonaws.com`,
        },
      },
    }),
  );
}

/** The IAM resource of an SSM parameter given by name (`/a/b` or `a`) or, when shared, by full ARN. */
function parameterArnOf(parameterName: string, stack: Stack): string {
  if (!Token.isUnresolved(parameterName) && parameterName.startsWith('arn:')) return parameterName;
  const name = parameterName.startsWith('/') ? parameterName.slice(1) : parameterName;
  return Arn.format(
    {
      service: 'ssm',
      resource: 'parameter',
      resourceName: name,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    },
    stack,
  );
}
