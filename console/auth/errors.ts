/** The person is not signed in, or their sign-in no longer works (exit code 4). */
export class NotSignedIn extends Error {
  constructor(
    message: string,
    /** The identity provider could not be reached: the sign-in itself may be fine (exit code 5). */
    readonly unreachable = false,
  ) {
    super(message);
  }
}
