/** A setting is missing or invalid. The message names the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly variables: string[];

  constructor(issues: Array<{ variable: string; problem: string }>) {
    super(
      `invalid configuration: ${issues.map((issue) => `${issue.variable}: ${issue.problem}`).join('; ')}`,
    );
    this.variables = issues.map((issue) => issue.variable);
  }
}
