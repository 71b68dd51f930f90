/** Shared by the CDK tests. */
import { App } from 'aws-cdk-lib';

/**
 * An app without aws-cdk-lib's built-in template validation: here it would only repeat the
 * W3696 App Mesh sunset warning on every synth; examples-cdk-app.test.ts runs cfn-lint, the real
 * check, on the example's templates.
 */
export function testApp(): App {
  return new App({ builtinCloudFormationValidation: false });
}
