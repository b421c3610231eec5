/** A mistake in the template file, at a JSON path such as $.create.method; loadTemplate turns it into a ConfigError. */
export class Problem extends Error {
  readonly at: string;
  constructor(at: string, message: string) {
    super(message);
    this.at = at;
  }
}
